// The queues of a task of several inputs: records go out in timestamp order across inputs, and
// an empty input is waited for as Kafka Streams' max.task.idle.ms says (records on the broker:
// up to the undelivered bound; nothing more on the broker: maxTaskIdleMs; -1: never).
import { expect } from 'chai';
import type { ConsumedRecord } from '../../engine/kafka/records.ts';
import { PartitionQueues, type DeliveryState } from '../../engine/runtime/task/partition-queues.ts';

const record = (topic: string, offset: number, timestamp: number): ConsumedRecord => ({ topic, partition: 0, offset, timestamp, key: null, value: null, headers: undefined }) as unknown as ConsumedRecord;
const delivery = (undelivered: Record<string, boolean | undefined>): DeliveryState => ({ hasUndelivered: (topic) => undelivered[topic] });

function drained(queues: PartitionQueues, now: number, state: DeliveryState, maxTaskIdleMs = 0): string[] {
  const out: string[] = [];
  queues.drain(now, state, { maxTaskIdleMs, undeliveredWaitMs: 1_000 }, (r) => out.push(`${r.topic}@${r.timestamp}`));
  return out;
}

describe('partition queues (time-ordered input)', () => {
  it('passes records on in timestamp order across inputs, ties in the order of the inputs', () => {
    const queues = new PartitionQueues(['a', 'b'], 0);
    for (const r of [record('a', 0, 5), record('a', 1, 9), record('b', 0, 1), record('b', 1, 5), record('b', 2, 12)]) queues.push(r);
    // Once a is empty and has nothing more on the broker, b goes on at once (maxTaskIdleMs 0).
    expect(drained(queues, 0, delivery({ a: false, b: false }))).to.deep.equal(['b@1', 'a@5', 'b@5', 'a@9', 'b@12']);
    expect(queues.hasRecords).to.equal(false);
    expect(queues.push(record('c', 0, 1))).to.equal(false);
  });

  it('waits for an empty input whose records are on the broker (or not known yet), up to its bound, then goes on, saying so once', () => {
    for (const [undelivered, bound] of [[true, 30_000], [undefined, 1_000]] as const) {
      const queues = new PartitionQueues(['orders', 'customers'], 0);
      const drain = (now: number) => {
        const out: string[] = [];
        const outcome = queues.drain(now, delivery({ customers: undelivered, orders: false }), { maxTaskIdleMs: 0, undeliveredWaitMs: 30_000, unknownWaitMs: 1_000 }, (r) => out.push(`${r.topic}@${r.timestamp}`));
        return { out, gaveUpOn: outcome.gaveUpOn };
      };
      queues.push(record('orders', 0, 20));
      queues.push(record('orders', 1, 30));
      expect(drain(1_000).out).to.deep.equal([]);
      expect(drain(1_000 + bound - 1).out).to.deep.equal([]);
      // A customer arrives: it goes first; then customers are empty and behind again.
      queues.push(record('customers', 0, 10));
      expect(drain(1_000 + bound).out).to.deep.equal(['customers@10']);
      expect(drain(1_000 + 2 * bound - 1).out).to.deep.equal([]);
      // Past the bound, the task goes on until customers get records; a known backlog given up on is reported.
      expect(drain(1_000 + 2 * bound)).to.deep.equal({ out: ['orders@20', 'orders@30'], gaveUpOn: undelivered ? 'customers' : undefined });
    }
  });

  it('names the inputs holding many records, for their fetching to pause', () => {
    const queues = new PartitionQueues(['a', 'b'], 0);
    for (let i = 0; i < 3; i++) queues.push(record('a', i, i));
    queues.push(record('b', 0, 0));
    expect(queues.overfull(3)).to.deep.equal(['a']);
    expect(queues.overfull(1)).to.deep.equal(['a', 'b']);
    expect([queues.waiting('a'), queues.waiting('b'), queues.waiting('c')]).to.deep.equal([3, 1, 0]);
  });

  it('passes on at most a batch per call', () => {
    const queues = new PartitionQueues(['a', 'b'], 0);
    for (let i = 0; i < 5; i++) queues.push(record('a', i, i));
    const out: number[] = [];
    queues.drain(0, delivery({ b: false }), { maxTaskIdleMs: 0, undeliveredWaitMs: 1_000 }, (r) => out.push(r.offset), 2);
    expect(out).to.deep.equal([0, 1]);
    queues.drain(0, delivery({ b: false }), { maxTaskIdleMs: 0, undeliveredWaitMs: 1_000 }, (r) => out.push(r.offset), 2);
    expect(out).to.deep.equal([0, 1, 2, 3]);
  });

  it('waits maxTaskIdleMs for an empty input with nothing more on the broker, and never with -1', () => {
    const queues = new PartitionQueues(['a', 'b'], 0);
    queues.push(record('a', 0, 1));
    expect(drained(queues, 0, delivery({ b: false }), 200)).to.deep.equal([]);
    expect(drained(queues, 199, delivery({ b: false }), 200)).to.deep.equal([]);
    expect(drained(queues, 200, delivery({ b: false }), 200)).to.deep.equal(['a@1']);
    queues.push(record('a', 1, 2));
    expect(drained(queues, 0, delivery({ b: true }), -1)).to.deep.equal(['a@2']);
  });
});
