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
