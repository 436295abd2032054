import type { TopicPartition, TopicPartitionOffset } from '../kafka/records.ts';
import type { CompiledTopology, Subtopology } from '../topology/compiled.ts';
import { Task, type TaskDependencies } from './task.ts';

/**
 * The tasks of this instance: one per sub-topology and partition number, created when one of
 * its topic-partitions is assigned and closed when the last one is revoked.
 */
export class Tasks {
  private readonly subtopologyOf = new Map<string, Subtopology>();
  private readonly tasks = new Map<string, { task: Task; assigned: Set<string> }>();
  /** topic -> partition -> task: the lookup on the per-record path. */
  private readonly route = new Map<string, Array<Task | undefined>>();
  private readonly deps: TaskDependencies;

  constructor(topology: CompiledTopology, deps: TaskDependencies) {
    this.deps = deps;
    for (const sub of topology.subtopologies) for (const topic of sub.sourceTopics) this.subtopologyOf.set(topic, sub);
  }

  /** The task that processes records of this topic-partition, if it is ours. */
  forRecord(topic: string, partition: number): Task | undefined {
    return this.route.get(topic)?.[partition];
  }

  get size(): number {
    return this.tasks.size;
  }

  ids(): string[] {
    return [...this.tasks.keys()].sort();
  }

  /** Creates the tasks for newly assigned partitions. */
  assign(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      const sub = this.subtopologyOf.get(topic);
      if (!sub) continue;
      const id = `${sub.id}_${partition}`;
      let entry = this.tasks.get(id);
      if (!entry) {
        entry = { task: new Task(sub, partition, this.deps), assigned: new Set() };
        this.tasks.set(id, entry);
      }
      entry.assigned.add(topic);
      if (!this.route.has(topic)) this.route.set(topic, []);
      this.route.get(topic)![partition] = entry.task;
    }
  }

  /** Forgets revoked partitions; a task with none left is closed. Commit before calling. */
  revoke(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      const task = this.forRecord(topic, partition);
      if (!task) continue;
      this.route.get(topic)![partition] = undefined;
      const entry = this.tasks.get(task.id)!;
      entry.assigned.delete(topic);
      if (entry.assigned.size === 0) this.tasks.delete(task.id);
    }
  }

  /** Every position processed and not yet committed. */
  uncommitted(): TopicPartitionOffset[] {
    const offsets: TopicPartitionOffset[] = [];
    for (const { task } of this.tasks.values()) offsets.push(...task.uncommitted());
    return offsets;
  }

  committed(offsets: TopicPartitionOffset[]): void {
    for (const offset of offsets) this.forRecord(offset.topic, offset.partition)?.committed([offset]);
  }
}
