import { expect } from 'chai';
import type { Mutation } from '../../../engine/extensions/mutations/conflicts.ts';
import { mutationDependencies, mutationId, mutationPriority } from '../../../engine/extensions/mutations/priority.ts';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const MINUTE = 60_000;

function mutation(fields: Partial<Mutation> = {}): Mutation {
  return {
    id: 'm1',
    edge_node_id: 'edge-1',
    entity_type: 'note',
    entity_id: 'n1',
    operation_type: 'UPDATE',
    attributes: {},
    base_version: 1,
    timestamp: new Date(NOW).toISOString(),
    priority: 5,
    dependencies: [],
    ...fields,
  };
}

describe('mutationPriority', () => {
  const rank = mutationPriority({ criticalEntities: ['order', 'payment'], importantEntities: ['customer', 'order'] });
  const of = (fields: Partial<Mutation>, ageMs = 0) => rank('key', mutation(fields), ageMs, NOW);

  it('starts from the mutation priority', () => {
    expect(of({ priority: 5 })).to.equal(5);
    expect(of({ priority: 1 })).to.equal(1);
    expect(of({ priority: undefined as unknown as number }), 'no priority counts as 0').to.equal(0);
  });

  it('adds 3 for a critical entity type, else 1 for an important one', () => {
    expect(of({ entity_type: 'payment' })).to.equal(8);
    expect(of({ entity_type: 'order' }), 'critical wins over important').to.equal(8);
    expect(of({ entity_type: 'customer' })).to.equal(6);
    expect(mutationPriority()('key', mutation({ entity_type: 'payment' }), 0, NOW), 'no lists, no bonus').to.equal(5);
  });

  it('adds 2 for a DELETE and 1 for a CREATE', () => {
    expect(of({ operation_type: 'DELETE' })).to.equal(7);
    expect(of({ operation_type: 'CREATE' })).to.equal(6);
    expect(of({ operation_type: 'UPDATE' })).to.equal(5);
  });

  it('adds 1 beyond 15 minutes and 2 beyond 60 minutes of age, by the mutation timestamp', () => {
    const madeAgo = (minutes: number) => ({ timestamp: new Date(NOW - minutes * MINUTE).toISOString() });
    expect(of(madeAgo(15))).to.equal(5);
    expect(of(madeAgo(16))).to.equal(6);
    expect(of(madeAgo(60))).to.equal(6);
    expect(of(madeAgo(61))).to.equal(7);
    expect(of(madeAgo(0), 2 * 60 * MINUTE), 'the mutation timestamp wins over the record age').to.equal(5);
    expect(of({ timestamp: 'yesterday-ish' }, 20 * MINUTE), 'an unreadable timestamp falls back to the record age').to.equal(6);
  });

  it('adds the factors up', () => {
    const old = new Date(NOW - 90 * MINUTE).toISOString();
    expect(of({ priority: 10, entity_type: 'payment', operation_type: 'DELETE', timestamp: old })).to.equal(17);
    expect(of({ priority: 2, entity_type: 'customer', operation_type: 'CREATE', timestamp: new Date(NOW - 30 * MINUTE).toISOString() })).to.equal(5);
  });

  it('reads ids and dependencies for batching', () => {
    expect(mutationId(mutation({ id: 'x9' }))).to.equal('x9');
    expect(mutationDependencies(mutation({ dependencies: ['a', 'b'] }))).to.deep.equal(['a', 'b']);
    expect(mutationDependencies(mutation({ dependencies: undefined as unknown as string[] }))).to.deep.equal([]);
  });
});
