import { describeCause } from '../../errors.ts';
import type { ConnectionOptions } from '../../kafka/config.ts';
import { KafkaConsumer } from '../../kafka/consumer.ts';
import type { ConsumedRecord } from '../../kafka/records.ts';
import { BULK_READ } from '../../kafka/reader.ts';
import type { CommittedReader } from '../../../state/committed-reader.ts';
import type { Logger } from '../../observability/logger.ts';
import type { CompiledStore } from '../../topology/compiled.ts';
import { readCheckpoint } from '../../../state/checkpoint.ts';
import { TaskDirectory } from '../../../state/task-directory.ts';
import { Mutex } from '../mutex.ts';
import { startingPosition } from '../task/restore.ts';
import { changelogPartition, TaskState, type TaskStore } from '../task/task-state.ts';

/** What standby tasks need from the application. */
export interface StandbyParts {
  stateDir: string;
  applicationId: string;
  connection: ConnectionOptions;
  log: Logger;
  /** The stores of a sub-topology's tasks. */
  storesOf: (subtopology: number) => readonly CompiledStore[];
}

/** How often the changelogs' ends are read, for the standbys' lag. */
const ENDS_INTERVAL_MS = 2_000;
/**
 * Records applied per batch. Small, and the event loop gets a turn after each: a standby that
 * catches up a whole changelog must not hold back the tasks' commits or the queries.
 */
const BATCH = 2_000;

/** A standby replica of one task: its stores, open in the task's own directory. */
interface Standby {
  id: string;
  state: TaskState;
  /** The stores it follows (source tables are not followed: see {@link StandbyTasks}). */
  followed: TaskStore[];
}

/**
 * Standby replicas: copies of other members' tasks' stores, kept warm by following their
 * changelogs (read committed) into the same LevelDB stores, in the task's own directory, that
 * the task opens when it becomes active here. Each batch is written with the changelog position
 * it brings the store to, as restoration writes it, so an active task opened on a standby's
 * stores restores only the changelog's tail past it. Following runs beside processing, on a
 * consumer of its own outside the group, and never blocks it.
 *
 * A store over a source topic (a table read straight from its topic) is not followed: a task
 * restores such a store only up to the group's committed offset of the topic, and a copy ahead
 * of it would have to be rebuilt.
 */
export class StandbyTasks {
  private readonly standbys = new Map<string, Standby>();
  /** `topic[partition]` of each followed changelog → its store. */
  private readonly targets = new Map<string, TaskStore>();
  /**
   * How far the consumer has read each followed changelog, transaction markers included, as of
   * the last batch applied (every record before it is in the store).
   */
  private readonly readTo = new Map<string, number>();
  /** The changelogs' ends, read every {@link ENDS_INTERVAL_MS}. */
  private readonly ends = new Map<string, number>();
  private endsReadAt = 0;
  private readonly lock = new Mutex();
  /** Releases waiting for the lock: an update in progress gives way to them (the next placement finishes it). */
  private releasing = 0;
  /** Tasks becoming active here: no standby of them opens until {@link unclaimAll}. */
  private readonly claimed = new Set<string>();
  private closed = false;
  /** Whether the last batch was full: the standbys are far behind their changelogs. */
  private catchingUp = false;
  private readonly following: Promise<void>;

  private constructor(
    private readonly parts: StandbyParts,
    private readonly consumer: KafkaConsumer,
  ) {
    this.following = this.follow();
  }

  static async start(parts: StandbyParts): Promise<StandbyTasks> {
    const consumer = await KafkaConsumer.connect({ ...parts.connection, isolationLevel: 'read_committed', properties: { ...BULK_READ, ...parts.connection.properties } });
    return new StandbyTasks(parts, consumer);
  }

  /** The tasks kept here as standbys. */
  ids(): string[] {
    return [...this.standbys.keys()].sort();
  }

  /** Each standby's lag: changelog records it has not applied yet, over its stores. */
  lags(): Record<string, number> {
    const lags: Record<string, number> = {};
    for (const standby of this.standbys.values()) lags[standby.id] = this.lagOf(standby);
    return lags;
  }

  /**
   * A reader of a standby's store with its lag, for `?stale=true` lookups. Nothing expires in it
   * (a standby has no stream time of its own): a stale answer may show what the task has dropped.
   */
  copy(id: string, store: string): { reader: CommittedReader<unknown, unknown>; lag: number } | undefined {
    const standby = this.standbys.get(id);
    const reader = standby?.state.reader(store, () => Number.NEGATIVE_INFINITY);
    if (!standby || !reader || !standby.followed.some((s) => s.spec.name === store)) return undefined;
    return { reader, lag: this.lagOf(standby) };
  }

  /**
   * A reader of a standby's store if the copy is at exactly `positions` (`topic[partition]` →
   * offset, a hand-over's: where the task's changelogs stood after its owner's final commit):
   * every record before them applied, and none after. Records the store skipped between its
   * position and the hand-over's can only be transaction markers or aborted writes, which the
   * consumer has read past.
   */
  copyAt(id: string, store: string, positions: Record<string, number>): CommittedReader<unknown, unknown> | undefined {
    const standby = this.standbys.get(id);
    if (!standby || !standby.followed.some((s) => s.spec.name === store)) return undefined;
    for (const followed of standby.followed) {
      const at = positions[key(followed)];
      const read = Math.max(followed.position, this.readTo.get(key(followed)) ?? -1);
      if (at === undefined || followed.position > at || read < at) return undefined;
    }
    return standby.state.reader(store, () => Number.NEGATIVE_INFINITY);
  }

  private lagOf({ followed }: Standby): number {
    return followed.reduce((n, store) => n + Math.max(0, (this.ends.get(key(store)) ?? store.position) - store.position), 0);
  }

  /**
   * Per task, how many changelog records its stores' checkpoint on disk is behind (the end read
   * committed), without opening them: undefined for a task with a store its checkpoint lacks.
   * A clean shutdown leaves a checkpoint of everything its stores hold.
   */
  async checkpointLags(ids: Iterable<string>): Promise<Map<string, number | undefined>> {
    const lags = new Map<string, number | undefined>();
    for (const id of ids) {
      const [sub, partition] = id.split('_').map(Number) as [number, number];
      const checkpoint = readCheckpoint(new TaskDirectory(this.parts.stateDir, this.parts.applicationId, id).path);
      let lag: number | undefined = 0;
      for (const spec of this.parts.storesOf(sub).filter((s) => !s.sourceChangelog)) {
        const at = checkpoint?.[spec.changelogTopic]?.[String(partition)];
        if (at === undefined) {
          lag = undefined;
          break;
        }
        lag += Math.max(0, (await this.consumer.watermarks(spec.changelogTopic, partition)).high - at);
      }
      lags.set(id, lag);
    }
    return lags;
  }

  /** Keeps standbys of exactly the tasks in `ids` (those with changelogged stores): opens the new ones, closes the others. */
  update(ids: ReadonlySet<string>): Promise<void> {
    return this.lock.run(async () => {
      if (this.closed) return;
      for (const id of [...this.standbys.keys()]) if (!ids.has(id)) await this.drop(id);
      for (const id of ids) {
        if (this.releasing > 0) break;
        if (!this.standbys.has(id) && !this.claimed.has(id)) await this.open(id);
      }
      this.reassign();
    });
  }

  /**
   * Closes the standbys of these tasks, which are about to become active here, so the tasks can
   * take their stores; none of them opens again until {@link unclaimAll} (a placement planned
   * before the assignment may still come).
   */
  async release(ids: Iterable<string>): Promise<void> {
    const releasing = [...ids];
    for (const id of releasing) this.claimed.add(id);
    this.releasing++;
    try {
      await this.lock.run(async () => {
        let dropped = false;
        for (const id of releasing) if (this.standbys.has(id)) dropped = (await this.drop(id)) || dropped;
        if (dropped) this.reassign();
      });
    } finally {
      this.releasing--;
    }
  }

  /** The assignment is done: placements decide again (they leave out the tasks active here). */
  unclaimAll(): void {
    this.claimed.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.following;
    await this.lock.run(async () => {
      for (const id of [...this.standbys.keys()]) await this.drop(id);
    });
    await this.consumer.disconnect().catch(() => undefined);
  }

  private async open(id: string): Promise<void> {
    const [sub, partition] = id.split('_').map(Number) as [number, number];
    const specs = this.parts.storesOf(sub).filter((s) => !s.sourceChangelog);
    if (specs.length === 0) return;
    let state: TaskState;
    try {
      // Not waiting for the directory: held, the task runs here (another thread of this instance).
      state = await TaskState.open(id, partition, [...specs], { stateDir: this.parts.stateDir, applicationId: this.parts.applicationId, log: this.parts.log, lockTimeoutMs: 0 });
    } catch (err) {
      this.parts.log.debug({ task: id, err: describeCause(err) }, 'no standby: the task\'s state is in use here');
      return;
    }
    try {
      for (const store of state.stores) {
        const { low, high } = await this.consumer.watermarks(store.spec.changelogTopic, store.partition);
        store.position = await startingPosition(state, store, low, high, this.parts.log);
        this.ends.set(key(store), high);
      }
    } catch (err) {
      await state.close().catch(() => undefined);
      this.parts.log.warn({ task: id, err: describeCause(err) }, 'could not start a standby; trying again at the next placement');
      return;
    }
    this.standbys.set(id, { id, state, followed: state.stores });
    for (const store of state.stores) this.targets.set(key(store), store);
    this.parts.log.info({ task: id }, 'standby started');
  }

  /** Closes a standby (its stores stay on disk with their positions and a checkpoint); true when there was one. */
  private async drop(id: string): Promise<boolean> {
    const standby = this.standbys.get(id);
    if (!standby) return false;
    this.standbys.delete(id);
    for (const store of standby.followed) {
      this.targets.delete(key(store));
      this.readTo.delete(key(store));
    }
    await standby.state.close().catch((err) => this.parts.log.warn({ task: id, err: describeCause(err) }, 'standby did not close cleanly'));
    this.parts.log.info({ task: id }, 'standby stopped');
    return true;
  }

  private reassign(): void {
    const assignment = [...this.targets.values()].map((store) => ({ topic: store.spec.changelogTopic, partition: store.partition, offset: store.position }));
    this.consumer.assign(assignment);
  }

  /** Applies what the changelogs bring, batch by batch, until closed. */
  private async follow(): Promise<void> {
    while (!this.closed) {
      try {
        const started = performance.now();
        const idle = await this.lock.run(() => this.step());
        // Catching up, a standby takes at most about half of the time: the tasks that run come first.
        const spent = performance.now() - started;
        await new Promise((resolve) => (this.catchingUp ? setTimeout(resolve, Math.min(spent, 1_000)) : setImmediate(resolve)));
        // The changelogs' ends are read outside the lock: a release never waits for them.
        if (Date.now() - this.endsReadAt >= ENDS_INTERVAL_MS) await this.readEnds();
        if (idle) await new Promise((resolve) => setTimeout(resolve, 200));
      } catch (err) {
        this.parts.log.warn({ err: describeCause(err) }, 'standby replicas could not follow their changelogs; trying again');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  /** One batch; true when there was nothing to follow. */
  private async step(): Promise<boolean> {
    if (this.closed || this.targets.size === 0) return true;
    const records = await this.consumer.consume(BATCH, 100);
    this.catchingUp = records.length === BATCH;
    if (records.length > 0) await this.apply(records);
    // Only now: a batch's records are in the stores before its end counts as read.
    for (const { topic, partition, offset } of this.consumer.position([...this.targets.values()].map((t) => ({ topic: t.spec.changelogTopic, partition: t.partition })))) {
      this.readTo.set(changelogPartition(topic, partition), offset);
    }
    return false;
  }

  private async apply(records: ConsumedRecord[]): Promise<void> {
    const runs = new Map<TaskStore, { entries: Array<[Buffer, Buffer | null]>; next: number }>();
    for (const record of records) {
      const store = this.targets.get(changelogPartition(record.topic, record.partition));
      if (!store) continue;
      let run = runs.get(store);
      if (!run) runs.set(store, (run = { entries: [], next: store.position }));
      if (record.key !== null) run.entries.push([record.key, record.value]);
      run.next = record.offset + 1;
    }
    for (const [store, { entries, next }] of runs) {
      await store.bytes.restore(entries, { topic: store.spec.changelogTopic, partition: store.partition, offset: next });
      store.position = next;
      store.written = next;
    }
    for (const standby of this.standbys.values()) standby.state.checkpoint();
  }

  private async readEnds(): Promise<void> {
    this.endsReadAt = Date.now();
    for (const store of [...this.targets.values()]) {
      const topic = store.spec.changelogTopic;
      const high = this.consumer.cachedWatermarks(topic, store.partition)?.high ?? (await this.consumer.watermarks(topic, store.partition)).high;
      this.ends.set(key(store), high);
    }
  }
}

function key(store: TaskStore): string {
  return changelogPartition(store.spec.changelogTopic, store.partition);
}
