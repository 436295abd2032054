// Back-pressure on the inputs of tasks of several inputs: a partition whose task holds many
// records is paused, resumed once its task has taken them down to half, and resumed when no task
// here reads it any more (so that, assigned again, it is not left paused).
import { expect } from 'chai';
import { InputBackpressure, type QueuedInputs } from '../../engine/runtime/input-backpressure.ts';
import type { TopicPartition } from '../../engine/kafka/records.ts';

describe('input back-pressure', () => {
  it('pauses an input over the limit once, resumes it under half, and resumes one no task reads', () => {
    const calls: string[] = [];
    const source = {
      pause: (tps: TopicPartition[]) => calls.push(`pause ${tps.map((t) => `${t.topic}-${t.partition}`).join(',')}`),
      resume: (tps: TopicPartition[]) => calls.push(`resume ${tps.map((t) => `${t.topic}-${t.partition}`).join(',')}`),
    };
    const waiting = new Map<string, number>([['orders-0', 1_200], ['orders-1', 10], ['payments-0', 0]]);
    const inputs: QueuedInputs = {
      overfullInputs: (limit) => [...waiting].filter(([, n]) => n >= limit).map(([id]) => ({ topic: id.split('-')[0]!, partition: Number(id.split('-')[1]) })),
      waiting: (topic, partition) => waiting.get(`${topic}-${partition}`),
    };
    const backpressure = new InputBackpressure(source, 1_000);
    backpressure.update(inputs);
    backpressure.update(inputs);
    expect(calls).to.deep.equal(['pause orders-0']);
    waiting.set('orders-0', 600);
    backpressure.update(inputs);
    expect(calls).to.deep.equal(['pause orders-0']);
    waiting.set('orders-0', 499);
    backpressure.update(inputs);
    expect(calls).to.deep.equal(['pause orders-0', 'resume orders-0']);
    waiting.set('orders-1', 1_000);
    backpressure.update(inputs);
    waiting.delete('orders-1');
    backpressure.update(inputs);
    expect(calls.slice(2)).to.deep.equal(['pause orders-1', 'resume orders-1']);
  });
});
