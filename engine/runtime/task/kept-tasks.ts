import type { TopicPartition, TopicPartitionOffset } from '../../kafka/records.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Task } from './task.ts';

/**
 * Tasks kept across a rebalance: a revoked task whose state lives wholly in its stores is
 * suspended here, stores open, instead of closed; if the assignment that follows gives it back,
 * it runs on from its committed positions with nothing to restore, and whatever is not given
 * back is closed then (its stores stay on disk).
 */
export class KeptTasks {
  private readonly kept = new Map<string, Task>();

  /** Suspends `task` (just committed) and keeps it; returns false, changing nothing, when it cannot be kept. */
  keep(task: Task): boolean {
    if (!task.keepable || !task.phase.is('running')) return false;
    task.suspend();
    this.kept.set(task.id, task);
    return true;
  }

  /**
   * Before kept tasks are given back: closes those whose partitions the group has committed
   * elsewhere than their own last commit. Another member processed those partitions meanwhile
   * (this instance was frozen past its session timeout, say, and the group moved on without it),
   * so the kept stores lack its changes: the task must be opened anew and restore the changelog
   * from its checkpoint, not resume. A position a task never committed itself counts as moved.
   */
  async dropMoved(
    assigned: TopicPartition[],
    subtopologyOf: (topic: string) => number | undefined,
    committed: (partitions: TopicPartition[]) => Promise<TopicPartitionOffset[]>,
    log: Logger,
  ): Promise<void> {
    const taskOf = (topic: string, partition: number) => this.kept.get(`${subtopologyOf(topic)}_${partition}`);
    const ours = assigned.filter((p) => taskOf(p.topic, p.partition) !== undefined);
    if (ours.length === 0) return;
    const moved = new Map<string, Task>();
    const differences: string[] = [];
    // No commit at all reads as a negative offset (the client's "invalid" -1001), as in a task.
    const position = (offset: number | undefined) => (offset === undefined || offset < 0 ? -1 : offset);
    for (const { topic, partition, offset } of await committed(ours)) {
      const task = taskOf(topic, partition)!;
      const own = position(task.inputs.get(topic)?.committed);
      if (own === position(offset)) continue;
      moved.set(task.id, task);
      differences.push(`${topic}[${partition}]: ${own} here, ${position(offset)} in the group`);
    }
    if (moved.size === 0) return;
    for (const id of moved.keys()) this.kept.delete(id);
    log.warn({ tasks: [...moved.keys()], committed: differences }, 'kept tasks whose partitions another member committed further meanwhile; restoring them instead of resuming');
    await Promise.all([...moved.values()].map((task) => task.close()));
  }

  /** The kept task `id`, running again, if there is one. */
  resume(id: string): Task | undefined {
    const task = this.kept.get(id);
    if (task === undefined) return undefined;
    this.kept.delete(id);
    task.resume();
    return task;
  }

  /** Closes every task still kept. */
  async closeAll(): Promise<void> {
    const tasks = [...this.kept.values()];
    this.kept.clear();
    await Promise.all(tasks.map((task) => task.close()));
  }
}
