import type { ConsumedRecord, TopicPartition, TopicPartitionOffset } from '../../kafka/records.ts';
import type { CompiledStore, CompiledTopology, Subtopology } from '../../topology/compiled.ts';
import type { CommittedReader } from '../../../state/committed-reader.ts';
import { Mutex } from '../mutex.ts';
import { describeCause } from '../../errors.ts';
import { findStoreCorruption } from '../../../state/leveldb/store-errors.ts';
import { needsPrefetch } from '../serde-preparation.ts';
import { Task, type TaskDependencies } from './task.ts';
import type { TaskPhase } from './task-parts.ts';
import { InstanceBackground } from './background.ts';
import { KeptTasks } from './kept-tasks.ts';
import type { TaskCorrupted } from './task-signals.ts';
import type { TaskState } from './task-state.ts';
import type { RecordOutput } from '../record-output.ts';
import type { DeliveryState, IdleOptions } from './partition-queues.ts';
import type { ConsumedUpTo } from '../record-source.ts';

/** How tasks are recreated in place (see {@link Tasks.reset}). */
interface Recreation {
  /** Tasks whose stores were found damaged: wiped and restored from scratch. */
  wipe?: ReadonlySet<string>;
  /** Set on the second try, after damage was found while restoring. */
  retried?: boolean;
  /** Tasks whose caches pass every write on at once until their next commit. */
  writeThrough?: ReadonlySet<string>;
  /** Where changelog partitions stood at the last commit: restoration goes no further. */
  upTo?: ReadonlyMap<string, number>;
}

/** What tasks with state need besides the per-record dependencies. */
export interface StateDependencies {
  stateDir: string;
  applicationId: string;
  /**
   * Brings newly opened stores up to their changelogs (restore.ts restoreTasks, in an
   * application); `upTo` bounds changelog partitions of tasks recreated in place.
   */
  restore: (states: TaskState[], upTo: ReadonlyMap<string, number>) => Promise<void>;
  /**
   * The group's committed positions of these partitions, with their metadata (a task's stream
   * time). Under exactly-once this also waits until the previous owner's last transaction is
   * settled, before the changelogs are read to their last stable offset.
   */
  committed: (partitions: TopicPartition[]) => Promise<TopicPartitionOffset[]>;
}

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
  private readonly stateDeps: StateDependencies;
  private readonly storesOf = new Map<number, CompiledStore[]>();
  /** Serialises assignment, revocation and resets, which a rebalance and the loop may ask for at once. */
  private readonly changes = new Mutex();
  /** Whether some source's serdes fetch before they read (see {@link prefetch}). */
  private readonly prefetching: boolean;
  /** Whether some sub-topology reads several topics: its tasks order their records by time. */
  private readonly ordering: boolean;
  /** Called whenever tasks start restoring, start running or go. */
  onChange: () => void = () => {};
  /** Set when a store has too many uncommitted changes; the loop commits early. */
  commitRequested = false;
  /** Revoked tasks kept, stores open, until the assignment that follows says whether they stay. */
  private readonly kept = new KeptTasks();
  /** Tasks whose stores a query found damaged, for the loop to recover. */
  private readonly damaged = new Map<string, TaskCorrupted>();

  constructor(topology: CompiledTopology, deps: TaskDependencies, stateDeps: StateDependencies) {
    this.deps = deps;
    this.stateDeps = stateDeps;
    for (const sub of topology.subtopologies) for (const topic of sub.sourceTopics) this.subtopologyOf.set(topic, sub);
    for (const store of topology.stores) this.storesOf.set(store.subtopology, [...(this.storesOf.get(store.subtopology) ?? []), store]);
    this.prefetching = needsPrefetch(topology);
    this.ordering = topology.subtopologies.some((s) => s.sourceTopics.length > 1);
  }

  /**
   * What the batch's records need fetched before they are processed (writer schemas of the
   * Avro serdes), as one promise, or undefined when nothing is missing: the batch boundary is
   * where the loop may wait.
   */
  prefetch(batch: ConsumedRecord[]): Promise<unknown> | undefined {
    if (!this.prefetching) return undefined;
    const waits: Array<Promise<unknown>> = [];
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      const wait = this.forRecord(record.topic, record.partition)?.prefetch(record);
      if (wait) waits.push(wait);
    }
    return waits.length > 0 ? Promise.all(waits) : undefined;
  }

  /** The task that processes records of this topic-partition, if it is ours. */
  forRecord(topic: string, partition: number): Task | undefined {
    return this.route.get(topic)?.[partition];
  }

  /** How many tasks run here. */
  get size(): number {
    return this.running().length;
  }

  /** The ids of the tasks running here. */
  ids(): string[] {
    return this.idsIn('running', 'suspended');
  }

  /** The ids of tasks assigned here that do not run yet (their stores are being restored). */
  restoringIds(): string[] {
    return this.idsIn('created', 'restoring', 'closed');
  }

  /** The tasks that run (records flow to them, commits include them), as `{ task }` entries. */
  private running(): Array<{ task: Task }> {
    return [...this.tasks.values()].filter(({ task }) => task.phase.is('running'));
  }

  private idsIn(...phases: TaskPhase[]): string[] {
    return [...this.tasks.values()].filter(({ task }) => task.phase.is(...phases)).map(({ task }) => task.id).sort();
  }

  /** Where task `taskId` stands here for a query of its store `store`: running (a reader of its committed state), restoring, or absent. */
  query(taskId: string, store: string): { state: 'running'; reader: CommittedReader<unknown, unknown> } | { state: 'restoring' | 'absent' } {
    const task = this.tasks.get(taskId)?.task;
    if (!task) return { state: 'absent' };
    const reader = task.phase.is('running', 'suspended') ? task.reader(store) : undefined;
    return reader ? { state: 'running', reader } : { state: 'restoring' };
  }

  /** Each running task's changelog positions (`topic[partition]` → offset): what a clean stop hands over. */
  changelogPositions(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.tasks.values()].filter(({ task }) => task.phase.is('running', 'suspended')).map(({ task }) => [task.id, Object.fromEntries(task.changelogPositions())]));
  }

  /** About how many bytes each store of each task takes on disk. */
  async storeSizes(): Promise<Array<{ store: string; partition: number; bytes: number }>> {
    const sizes = await Promise.all(this.running().map(({ task }) => task.storeSizes()));
    return sizes.flat();
  }

  /**
   * Creates the tasks for newly assigned partitions. Tasks with stores open them and restore
   * them from their changelogs first; the partitions are read only after this returns.
   */
  assign(partitions: TopicPartition[]): Promise<void> {
    return this.changes.run(() => this.create(partitions));
  }

  private async create(partitions: TopicPartition[], recreate: Recreation = {}): Promise<void> {
    const { writeThrough = new Set() } = recreate;
    const created: Task[] = [];
    await this.kept.dropMoved(partitions, (topic) => this.subtopologyOf.get(topic)?.id, this.stateDeps.committed, this.deps.log);
    for (const { topic, partition } of partitions) {
      const sub = this.subtopologyOf.get(topic);
      if (!sub) continue;
      const id = `${sub.id}_${partition}`;
      const entry = this.tasks.get(id);
      // New, or in place of a closed one (a rewind): until it runs, queries answer "restoring".
      if (entry && !entry.task.phase.is('closed')) continue;
      const kept = this.kept.resume(id);
      if (kept) this.tasks.set(id, { task: kept, assigned: new Set() });
      if (kept) continue;
      const task = new Task(sub, partition, this.deps, {
        onStorePressure: () => (this.commitRequested = true),
        onStoreDamaged: (damage) => this.damaged.set(damage.taskId, damage),
        writeThrough: writeThrough.has(id),
      });
      this.tasks.set(id, { task, assigned: new Set() });
      created.push(task);
    }
    if (created.length > 0) await this.restoreCreated(created, partitions, recreate);
    for (const { topic, partition } of partitions) {
      const sub = this.subtopologyOf.get(topic);
      if (!sub) continue;
      const entry = this.tasks.get(`${sub.id}_${partition}`)!;
      entry.assigned.add(topic);
      if (!this.route.has(topic)) this.route.set(topic, []);
      this.route.get(topic)![partition] = entry.task;
    }
    queueMicrotask(() => this.onChange());
  }

  /** Restores and starts newly created tasks (once more with their stores wiped, if restoring found damage). */
  private async restoreCreated(created: Task[], partitions: TopicPartition[], recreate: Recreation): Promise<void> {
    const { wipe = new Set(), upTo = new Map() } = recreate;
    this.onChange();
    try {
      await this.restoreMetadata(created, partitions);
      await this.openAndRestore(created, wipe, upTo);
    } catch (err) {
      await Promise.all(created.map((task) => task.close()));
      // Damage met while restoring or preloading (LevelDB reads tables lazily): once more,
      // with those tasks' stores wiped.
      if (!findStoreCorruption(err) || recreate.retried) {
        for (const task of created) this.tasks.delete(task.id);
        this.onChange();
        throw err;
      }
      this.deps.log.warn({ err: describeCause(err) }, 'a store was found damaged while it was restored; wiping it and restoring again');
      return this.create(partitions, { ...recreate, wipe: new Set(created.map((t) => t.id)), retried: true });
    }
    for (const task of created) task.start();
  }

  /** Gives each new task the positions, stream time and processor numbers its last commit recorded. */
  private async restoreMetadata(created: Task[], partitions: TopicPartition[]): Promise<void> {
    const byId = new Map(created.map((task) => [task.id, task]));
    const taskOf = ({ topic, partition }: TopicPartition) => byId.get(`${this.subtopologyOf.get(topic)?.id}_${partition}`);
    const ours = partitions.filter((p) => taskOf(p) !== undefined);
    const committed = new Map<Task, TopicPartitionOffset[]>();
    for (const offset of ours.length === 0 ? [] : await this.stateDeps.committed(ours)) committed.set(taskOf(offset)!, [...(committed.get(taskOf(offset)!) ?? []), offset]);
    for (const [task, offsets] of committed) task.restoreMetadata(offsets);
  }

  /** Opens the new tasks' stores and brings them up to their changelogs (they are then restoring). */
  private async openAndRestore(created: Task[], wipe: ReadonlySet<string>, upTo: ReadonlyMap<string, number>): Promise<void> {
    const states: TaskState[] = [];
    for (const task of created) {
      const state = await task.open(this.storesOf.get(Number(task.id.split('_')[0])), { ...this.stateDeps, wipe: wipe.has(task.id) });
      if (state) states.push(state);
    }
    await this.stateDeps.restore(states, upTo);
    for (const task of created) await task.dropExpiredSegments();
    for (const state of states) await state.preload();
  }

  /** Forgets revoked partitions; a task left with none is closed (stores stay on disk), or with `keep` kept if it can be, until {@link closeKept}. Commit first. */
  revoke(partitions: TopicPartition[], keep = false): Promise<void> {
    return this.changes.run(() => this.remove(partitions, keep));
  }

  /** Closes the revoked tasks the last assignment did not give back. */
  closeKept(): Promise<void> {
    return this.changes.run(() => this.kept.closeAll());
  }

  private async remove(partitions: TopicPartition[], keep: boolean): Promise<void> {
    const closing: Task[] = [];
    for (const { topic, partition } of partitions) {
      const task = this.forRecord(topic, partition);
      if (!task) continue;
      this.route.get(topic)![partition] = undefined;
      const entry = this.tasks.get(task.id)!;
      entry.assigned.delete(topic);
      if (entry.assigned.size === 0) {
        this.tasks.delete(task.id);
        if (!keep || !this.kept.keep(task)) closing.push(task);
      }
    }
    if (closing.length > 0) this.onChange();
    await Promise.all(closing.map((task) => task.close()));
  }

  /** A task a query found damaged since the last call, if any (its recovery is the caller's). */
  takeDamaged(): TaskCorrupted | undefined {
    for (const [id, damage] of this.damaged) {
      this.damaged.delete(id);
      if (this.tasks.has(id)) return damage;
    }
    return undefined;
  }

  /** Every topic-partition assigned to a task here. */
  assignedPartitions(): TopicPartition[] {
    return [...this.tasks.values()].flatMap(({ task, assigned }) => [...assigned].map((topic) => ({ topic, partition: task.partition })));
  }

  /**
   * Recreates every task from its last commit: closed without writing what is not committed, then
   * opened, their stores caught up from their changelogs no further than the last commit left them
   * (what was sent since, under at-least-once, is not theirs yet). The stores of tasks in `wipe` are
   * wiped and restored; tasks in `writeThrough` pass every store write on until their next commit.
   */
  reset(recreate: Omit<Recreation, 'upTo'> = {}): Promise<void> {
    return this.changes.run(async () => {
      const partitions = this.assignedPartitions();
      const upTo = new Map<string, number>();
      for (const { task } of this.tasks.values()) for (const [id, offset] of task.changelogPositions()) upTo.set(id, offset);
      // Closed tasks stay listed until new ones take their place (queries answer "restoring"); damage met in them goes.
      await this.closeEvery(false);
      this.damaged.clear();
      await this.create(partitions, { ...recreate, upTo });
    });
  }

  /** Closes every task (shutdown). */
  closeAll(): Promise<void> {
    return this.changes.run(() => this.closeEvery());
  }

  private async closeEvery(forget = true): Promise<void> {
    const all = [...this.tasks.values()].map((e) => e.task);
    if (forget) this.tasks.clear();
    this.route.clear();
    if (all.length > 0) this.onChange();
    await Promise.all([...all.map((task) => task.close()), this.kept.closeAll()]);
  }

  /** True when a task of several inputs holds records it has not processed yet. */
  get queued(): boolean {
    if (!this.ordering) return false;
    for (const { task } of this.tasks.values()) if (task.queues?.hasRecords) return true;
    return false;
  }

  /**
   * Processes the records tasks of several inputs hold, in timestamp order, as far as their
   * inputs allow at `now` (see PartitionQueues). Throws as `Task.process` does.
   */
  drainQueued(now: number, delivery: DeliveryState, options: IdleOptions & { maxBatch: number }): void {
    if (!this.ordering) return;
    for (const { task } of this.tasks.values()) {
      const queues = task.queues;
      if (!queues?.hasRecords || !task.phase.is('running')) continue;
      const { gaveUpOn } = queues.drain(now, delivery, options, (record) => task.process(record), options.maxBatch);
      if (gaveUpOn !== undefined) {
        this.deps.log.warn({ task: task.id, topic: gaveUpOn, waitedMs: options.undeliveredWaitMs }, 'a task of several inputs waited this long for records the broker holds and goes on without them: its records may now be processed out of time order');
      }
    }
  }

  /** Inputs whose task holds `limit` records waiting (their fetching may pause): queued, or in async operators at their concurrency (all its inputs). */
  overfullInputs(limit: number): Array<{ topic: string; partition: number }> {
    const full: Array<{ topic: string; partition: number }> = [];
    for (const { task } of this.tasks.values()) {
      const topics = task.background.load >= 1 ? [...task.inputs.keys()] : (task.queues?.overfull(limit) ?? []);
      for (const topic of topics) full.push({ topic, partition: task.partition });
    }
    return full;
  }

  /** How many records of this input partition wait in its task (see overfullInputs); undefined when no task of this instance reads it. */
  waiting(topic: string, partition: number, limit: number): number | undefined {
    const task = this.forRecord(topic, partition);
    if (task === undefined) return undefined;
    return Math.max(task.queues?.waiting(topic) ?? 0, task.background.load * limit);
  }

  /** The running tasks' async operators, as the loop asks about them. */
  readonly background = new InstanceBackground(() => this.running().map(({ task }) => task.background));

  /** True when some task has a wall-clock punctuation due at `now`. */
  punctuationDue(now: number): boolean {
    for (const { task } of this.running()) if (task.punctuationDue(now)) return true;
    return false;
  }

  /** Runs every wall-clock punctuation due at `now`. Throws only StopProcessing. */
  punctuate(now: number): void {
    for (const { task } of this.running()) if (task.punctuationDue(now)) task.punctuate('wall-clock', now);
  }

  /**
   * The first half of a commit, before the commit protocol makes anything durable: every task's
   * commit work (external writes; `drain` finishes what is in flight, before tasks close or the
   * loop stops), then expired entries swept, then the caches flushed (their changes go to the
   * changelogs and downstream). Returns the input positions to commit. Waits for every task's
   * commit work before it throws the first failure.
   */
  async prepareCommit(drain: boolean, consumedUpTo?: ConsumedUpTo, closing = false): Promise<TopicPartitionOffset[]> {
    const outcomes = await Promise.allSettled(this.running().map(({ task }) => task.beforeCommit(drain, closing)));
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
    for (const { task } of this.running()) await task.sweepExpired();
    for (const { task } of this.running()) task.flushState();
    this.commitRequested = false;
    return this.uncommitted(consumedUpTo);
  }

  /**
   * The second half, once the positions `offsets` (and every record sent before them) are
   * durable: the tasks take note, their stores' changelog positions move on, the stores' staged
   * changes are written to LevelDB with those positions, and checkpoint files are written when
   * due. Not called when the protocol aborted (the tasks go back to the last commit instead).
   */
  async finishCommit(offsets: TopicPartitionOffset[], producer: RecordOutput): Promise<void> {
    this.committed(offsets);
    const progressed = new Set(offsets.map((o) => this.forRecord(o.topic, o.partition)));
    for (const { task } of this.running()) task.advance(producer, progressed.has(task));
    await Promise.all(this.running().map(({ task }) => task.writeState()));
    for (const { task } of this.running()) task.checkpoint();
  }

  /** Every position processed and not yet committed. */
  private uncommitted(consumedUpTo?: ConsumedUpTo): TopicPartitionOffset[] {
    const offsets: TopicPartitionOffset[] = [];
    for (const { task } of this.running()) offsets.push(...task.uncommitted(consumedUpTo));
    return offsets;
  }

  private committed(offsets: TopicPartitionOffset[]): void {
    for (const offset of offsets) this.forRecord(offset.topic, offset.partition)?.committed([offset]);
  }
}
