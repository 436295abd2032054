// Tasks kept across a rebalance are given back only if the group's committed positions of their
// partitions are still those of their own last commit: otherwise another member processed the
// partitions meanwhile (this member was frozen past its session timeout, say), the kept stores
// lack its changes, and the task is closed, to be opened anew and restored.
import { expect } from 'chai';
import type { TopicPartition, TopicPartitionOffset } from '../../engine/kafka/records.ts';
import { createLogger } from '../../engine/observability/logger.ts';
import { NodeCounts } from '../../engine/observability/node-counts.ts';
import { defineApplication, compileApplication } from '../../engine/runtime/definition.ts';
import { RecordErrors } from '../../engine/runtime/record-errors.ts';
import type { RecordOutput } from '../../engine/runtime/record-output.ts';
import { KeptTasks } from '../../engine/runtime/task/kept-tasks.ts';
import { Task } from '../../engine/runtime/task/task.ts';
import { Serdes } from '../../engine/serde/serde.ts';

const log = createLogger({}, 'silent');
const sent: unknown[] = [];
const output: RecordOutput = { send: (record) => void sent.push(record), deliveredOffset: () => undefined, recordLimit: () => 1_000_000 };
const definition = defineApplication({
  applicationId: 'kept',
  keySerde: Serdes.string(),
  valueSerde: Serdes.string(),
  topology: (b) => b.stream<string, string>('in').mapValues((v) => v.toUpperCase()).to('out'),
});
const topology = compileApplication(definition, { ...definition, applicationId: 'kept' });
const subtopology = topology.subtopologies[0]!;

/** A new task of partition `partition`, not started. */
function newTask(partition: number): Task {
  return new Task(subtopology, partition, { producer: output, errors: new RecordErrors(output, log), nodes: new NodeCounts(), log, clock: Date.now });
}

/** A running stateless task of partition `partition` that has processed and committed `in` up to `offset`. */
function committedTask(partition: number, offset: number): Task {
  const task = newTask(partition);
  task.phase.transition('restoring');
  task.start();
  for (let o = 0; o < offset; o++) task.process({ topic: 'in', partition, offset: o, timestamp: 1, key: Buffer.from('k'), value: Buffer.from('v'), headers: undefined } as never);
  task.committed(task.uncommitted());
  return task;
}

describe('kept tasks', () => {
  it('gives back a task whose partition the group left where it committed it, and closes one whose partition moved on', async () => {
    const kept = new KeptTasks();
    const same = committedTask(0, 5);
    const moved = committedTask(1, 5);
    const never = committedTask(2, 0);
    expect([same, moved, never].map((t) => kept.keep(t))).to.deep.equal([true, true, true]);
    const asked: TopicPartition[] = [];
    const group = new Map([[0, 5], [1, 9], [2, 3]]);
    const committed = async (partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> => {
      asked.push(...partitions);
      return partitions.map(({ topic, partition }) => ({ topic, partition, offset: group.get(partition)! }));
    };
    const assigned = [0, 1, 2, 3].map((partition) => ({ topic: 'in', partition }));
    await kept.dropMoved(assigned, (topic) => (topic === 'in' ? 0 : undefined), committed, log);
    // Only the kept tasks' partitions are asked for (partition 3 had none).
    expect(asked.map((p) => p.partition)).to.deep.equal([0, 1, 2]);
    expect(kept.resume('0_0')).to.equal(same);
    expect(same.phase.is('running')).to.equal(true);
    // Committed at 9 by another member, where this task committed 5: closed, not given back.
    expect(kept.resume('0_1')).to.equal(undefined);
    expect(moved.phase.is('closed')).to.equal(true);
    // A task that never committed cannot tell: closed too.
    expect(kept.resume('0_2')).to.equal(undefined);
    expect(never.phase.is('closed')).to.equal(true);
  });

  it("gives back a new task that processed nothing, its own position the group's at its creation (none: -1001)", async () => {
    for (const offset of [83_260, -1001]) {
      const kept = new KeptTasks();
      const fresh = newTask(0);
      fresh.restoreMetadata([{ topic: 'in', partition: 0, offset }]);
      fresh.phase.transition('restoring');
      fresh.start();
      kept.keep(fresh);
      await kept.dropMoved([{ topic: 'in', partition: 0 }], () => 0, async (partitions) => partitions.map((p) => ({ ...p, offset })), log);
      expect(kept.resume('0_0'), `group at ${offset}`).to.equal(fresh);
    }
  });

  it('asks the group nothing when no kept task is among the partitions assigned', async () => {
    const kept = new KeptTasks();
    kept.keep(committedTask(0, 2));
    let asked = 0;
    await kept.dropMoved([{ topic: 'in', partition: 1 }], () => 0, async () => (asked++, []), log);
    expect(asked).to.equal(0);
    expect(kept.resume('0_0')).to.not.equal(undefined);
  });
});
