import { expect } from 'chai';
import { IllegalStateError } from '../../engine/errors.ts';
import { Lifecycle } from '../../engine/runtime/lifecycle.ts';
import { StateMachine } from '../../engine/state-machine.ts';

describe('application lifecycle', () => {
  it('follows the transition table and rejects anything else loudly', () => {
    const lifecycle = new Lifecycle();
    const seen: string[] = [];
    lifecycle.onChange((to, from) => seen.push(`${from}->${to}`));
    lifecycle.transition('STARTING');
    lifecycle.transition('REBALANCING');
    lifecycle.transition('RUNNING');
    expect(() => lifecycle.transition('CREATED')).to.throw(IllegalStateError, 'RUNNING cannot move to CREATED');
    lifecycle.transition('PENDING_SHUTDOWN');
    lifecycle.transition('NOT_RUNNING');
    expect(() => lifecycle.transition('RUNNING')).to.throw(IllegalStateError);
    expect(seen).to.deep.equal(['CREATED->STARTING', 'STARTING->REBALANCING', 'REBALANCING->RUNNING', 'RUNNING->PENDING_SHUTDOWN', 'PENDING_SHUTDOWN->NOT_RUNNING']);
  });
});

describe('state machines', () => {
  it('name what moves and both states when a transition is illegal', () => {
    const machine = new StateMachine<'a' | 'b' | 'c'>('widget 7', 'a', { a: ['b'], b: ['c'], c: [] });
    machine.transition('b');
    machine.transition('b'); // staying is allowed
    expect(() => machine.transition('a')).to.throw(IllegalStateError, 'The widget 7 in state b cannot move to a.');
    machine.transition('c');
    expect(machine.is('c')).to.equal(true);
  });
});
