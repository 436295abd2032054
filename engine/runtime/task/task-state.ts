import type { StorePosition } from '../../../state/bytes-store.ts';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../../../state/checkpoint.ts';
import { LevelDbStore, StoreCorruptedError, StoreOpenError } from '../../../state/leveldb/level-store.ts';
import { CommittedReader } from '../../../state/committed-reader.ts';
import { TaskDirectory } from '../../../state/task-directory.ts';
import { readTime, SEGMENTS_END } from '../../../state/window/windowed-keys.ts';
import { SegmentRetention } from '../../../state/window/segment-retention.ts';
import { ApplicationError, describeCause, IllegalStateError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { CompiledStore } from '../../topology/compiled.ts';
import type { RecordOutput } from '../record-output.ts';
import { stackLayers, type ActiveStore, type StackOptions } from './active-store.ts';

/** The key of a changelog partition in restore limits (`RestoreLimits.upTo`). */
export function changelogPartition(topic: string, partition: number): string {
  return `${topic}[${partition}]`;
}

/** Expired entries each store with a TTL examines per commit. */
const SWEEP_BATCH = 1000;
/** Changelog records since the last checkpoint that make a commit write a new one. */
const CHECKPOINT_DELTA = 10_000;

/**
 * One store of a task as it is opened and restored: its LevelDB and how far its changelog is
 * applied. Once the task runs, the layers over it are an {@link ActiveStore}.
 */
export interface TaskStore {
  readonly spec: CompiledStore;
  readonly partition: number;
  bytes: LevelDbStore;
  /**
   * Where restoration may start: the changelog position the store's own data records, when that
   * can be trusted; undefined restores from the beginning of the changelog.
   */
  restoreFrom: number | undefined;
  /** The next changelog offset the store reflects; known once restored. */
  position: number;
  /** The position last written into the store with its data. */
  written: number | undefined;
}

export interface TaskStateOptions {
  stateDir: string;
  applicationId: string;
  log: Logger;
  /** How long to wait for another process (an old owner) to release the task's directory. */
  lockTimeoutMs?: number;
  /** Wipe every store (its data was found damaged): it is restored from its changelog. */
  wipe?: boolean;
}

/**
 * The state of one task: its directory (locked for this process), one LevelDB per store under
 * `<state-dir>/<application.id>/<task>/<store>`, and its checkpoint. Restoration works on the
 * bare LevelDBs; `activate` then stacks metering, caching and change-logging over them.
 *
 * Each store keeps its changelog position inside its LevelDB, written in the same batch as the
 * data it describes, so the two never disagree; the `.checkpoint` file beside the stores repeats
 * the positions at close (and every {@link CHECKPOINT_DELTA} changelog records). A store whose
 * recorded position is missing or behind its checkpoint lost data (deleted files, a truncated
 * log): it is wiped and restored from its changelog rather than trusted.
 */
export class TaskState {
  readonly taskId: string;
  readonly stores: TaskStore[];
  private readonly directory: TaskDirectory;
  private readonly log: Logger;
  /** Each store's position in the last checkpoint file written. */
  private readonly checkpointed = new Map<TaskStore, number>();
  /** The stores with their layers, once the task runs (see {@link activate}). */
  private active: ActiveStore[] | undefined;
  /** Readers of what each store has committed, for queries from outside the task. */
  private readonly readers = new Map<TaskStore, CommittedReader<unknown, unknown>>();
  /** Preloaded stores' entries as restored, held until the task's processors are built. */
  private preloaded = new Map<string, Array<[Buffer, Buffer]>>();
  /** Each windowed store's retention (over its LevelDB as now opened). */
  private readonly retentions = new Map<TaskStore, SegmentRetention>();
  /** For each windowed store: a time every window it held when the task started lies before. */
  private readonly windowBounds = new Map<string, number>();

  private constructor(taskId: string, directory: TaskDirectory, stores: TaskStore[], log: Logger) {
    this.taskId = taskId;
    this.directory = directory;
    this.stores = stores;
    this.log = log;
  }

  /** Locks the directory, opens every store, and decides which can be trusted (wiping the others). */
  static async open(taskId: string, partition: number, specs: CompiledStore[], options: TaskStateOptions): Promise<TaskState> {
    const directory = new TaskDirectory(options.stateDir, options.applicationId, taskId);
    try {
      await directory.acquire(options.lockTimeoutMs ?? 60_000);
    } catch (err) {
      throw new ApplicationError(`Cannot take the state directory of task ${taskId}: ${describeCause(err)}`, { cause: err });
    }
    const log = options.log.child({ task: taskId });
    const checkpoint = readCheckpoint(directory.path);
    const stores: TaskStore[] = [];
    try {
      for (const spec of specs) {
        const location = directory.storePath(spec.name);
        const checkpointed = checkpoint?.[spec.changelogTopic]?.[String(partition)];
        const { bytes, restoreFrom } = await openTrusted(spec, partition, location, checkpointed, options.wipe ?? false, log);
        stores.push({ spec, partition, bytes, restoreFrom, position: -1, written: restoreFrom });
      }
    } catch (err) {
      await Promise.all(stores.map((s) => s.bytes.close().catch(() => undefined)));
      await directory.release();
      throw err;
    }
    return new TaskState(taskId, directory, stores, log);
  }

  /** Deletes a store's data (it will be restored from the beginning of its changelog). */
  async wipe(store: TaskStore): Promise<void> {
    await store.bytes.close();
    LevelDbStore.wipe(store.bytes.location);
    store.bytes = await LevelDbStore.open(store.spec.name, store.bytes.location);
    store.restoreFrom = undefined;
    store.written = undefined;
    this.readers.delete(store);
    this.retentions.delete(store);
  }

  /**
   * Reads the restored entries of every store declared with `preload` into memory. LevelDB scans
   * are asynchronous and processors must not await, so this runs between restoration and the
   * task's start; the task hands the entries to its processors and then lets them go.
   */
  async preload(): Promise<void> {
    for (const s of this.stores) {
      if (s.spec.windowed) this.windowBounds.set(s.spec.name, await windowBound(s.bytes, s.spec.windowed.segmentIntervalMs));
      if (!s.spec.preload) continue;
      const entries: Array<[Buffer, Buffer]> = [];
      for await (const entry of s.bytes.range()) entries.push(entry);
      this.preloaded.set(s.spec.name, entries);
    }
  }

  /** A preloaded store's restored entries, decoded, in the byte order of their keys. */
  restoredEntries(name: string): Array<[unknown, unknown]> {
    const { spec } = this.store(name);
    if (!spec.preload) throw new IllegalStateError(`Store "${name}" is not preloaded; declare it with preload: true to read its restored entries.`);
    const restored = this.preloaded.get(name);
    if (restored === undefined) throw new IllegalStateError(`The restored entries of store "${name}" are only available while the task's processors are built.`);
    const { keySerde, valueSerde, changelogTopic } = spec;
    return restored.map(([key, value]) => [keySerde.deserialize(key, changelogTopic), valueSerde.deserialize(value, changelogTopic)]);
  }

  /**
   * A time every window the store held when the task started lies before (a window's start; a
   * session's end): a window at or after it cannot be in the store unless written since.
   */
  windowTimeBound(name: string): number {
    return this.windowBounds.get(name) ?? Number.POSITIVE_INFINITY;
  }

  /** Drops the preloaded entries once the processors have read them. */
  releaseRestored(): void {
    this.preloaded = new Map();
  }

  /**
   * Stacks each store's layers over its restored LevelDB (see {@link stackLayers}): from now on
   * the stores are handed out whole, by name. `writeThrough`: every cache passes each write down
   * at once until {@link restoreCaching}.
   */
  activate(options: StackOptions): void {
    this.active = this.stores.map((s) => stackLayers(s.spec, s.partition, s.bytes, options));
  }

  /** Turns each store's cache back to what its spec says (after a write-through stretch). */
  restoreCaching(): void {
    for (const s of this.activeStores()) s.cache.setEnabled(s.spec.caching);
  }

  /** A reader of what this store has committed (for queries from outside the task). */
  reader(name: string, now: () => number, onCorruption?: (error: StoreCorruptedError) => void, written?: () => number | undefined): CommittedReader<unknown, unknown> | undefined {
    const found = this.stores.find((s) => s.spec.name === name);
    if (!found) return undefined;
    let reader = this.readers.get(found);
    if (!reader) {
      const { spec } = found;
      const retentionMs = spec.windowed?.retentionMs;
      const liveFrom = retentionMs === undefined || !written ? undefined : () => (written() ?? Number.NEGATIVE_INFINITY) - retentionMs + 1;
      reader = new CommittedReader(found.bytes, spec.keySerde, spec.valueSerde, spec.changelogTopic, { ttlMs: spec.ttlMs, now, onCorruption, liveFrom });
      this.readers.set(found, reader);
    }
    return reader;
  }

  /** About how many bytes each store takes on disk. */
  async sizes(): Promise<Array<{ store: string; partition: number; bytes: number }>> {
    return Promise.all(this.stores.map(async (s) => ({ store: s.spec.name, partition: s.partition, bytes: await s.bytes.approximateSize().catch(() => 0) })));
  }

  /** A store of the running task, with its layers. */
  store(name: string): ActiveStore {
    const found = this.activeStores().find((s) => s.spec.name === name);
    if (!found) throw new ApplicationError(`Task ${this.taskId} has no store "${name}".`);
    return found;
  }

  private activeStores(): ActiveStore[] {
    if (!this.active) throw new IllegalStateError(`The stores of task ${this.taskId} are not active yet (still restoring).`);
    return this.active;
  }

  /** Deletes up to {@link SWEEP_BATCH} expired entries of each store with a TTL whose sweep is due. */
  async sweepExpired(): Promise<void> {
    const now = Date.now();
    for (const s of this.activeStores()) if (s.expiring?.sweepDue(now)) await s.expiring.sweep(SWEEP_BATCH);
  }

  /**
   * Drops the expired segments of windowed stores, as `written` (the latest window time written
   * to a store, as last committed) says: after a commit's write, what it drops can never be
   * needed again, even if the next transaction aborts; and at start, before the windows a
   * restoration brought back (the changelog keeps them a day longer) are read into memory.
   */
  async dropExpiredSegments(written: (store: string) => number | undefined): Promise<void> {
    for (const s of this.stores) {
      if (!s.spec.windowed) continue;
      const time = written(s.spec.name);
      if (time === undefined) continue;
      let retention = this.retentions.get(s);
      if (!retention) this.retentions.set(s, (retention = new SegmentRetention(s.bytes, s.spec.windowed)));
      await retention.drop(time);
    }
  }

  /**
   * Passes every cached change down (to the changelog, and to the flush listeners), again while
   * what a listener forwarded changed another store's cache (a suppression buffering a windowed
   * table's updates): nothing is left out of the commit, whatever the stores' order.
   */
  flush(): void {
    const stores = this.activeStores();
    for (let round = 0; round === 0 || stores.some((s) => s.cache.dirtyCount > 0); round++) {
      if (round > stores.length) throw new IllegalStateError(`The stores of task ${this.taskId} keep changing each other as their caches are flushed.`);
      for (const s of stores) s.cache.flush();
    }
  }

  /**
   * After a commit: how far each store now reflects its changelog, the acknowledged changelog
   * offsets, or, for a table over a topic, the task's position in that topic.
   */
  advance(producer: RecordOutput, inputPosition: (topic: string) => number | undefined): void {
    for (const s of this.stores) {
      const position = s.spec.sourceChangelog ? inputPosition(s.spec.changelogTopic) : producer.deliveredOffset(s.spec.changelogTopic, s.partition);
      if (position !== undefined) s.position = Math.max(s.position, s.spec.sourceChangelog ? position : position + 1);
    }
  }

  /** Where each store's changelog partition stood at the last commit or restoration (`topic[partition]` → offset). */
  changelogPositions(): Array<[string, number]> {
    return this.stores.filter((s) => !s.spec.sourceChangelog && s.position >= 0).map((s) => [changelogPartition(s.spec.changelogTopic, s.partition), s.position]);
  }

  /** Writes the staged changes of every store to LevelDB, each with the position it brings the store to. */
  async write(): Promise<void> {
    await Promise.all(
      this.stores.map(async (s) => {
        const moved = s.position >= 0 && s.position !== s.written;
        await s.bytes.write(moved ? { topic: s.spec.changelogTopic, partition: s.partition, offset: s.position } : undefined);
        if (moved) s.written = s.position;
      }),
    );
  }

  /**
   * Writes the checkpoint file, as Kafka Streams does, once the changelogs moved on by
   * CHECKPOINT_DELTA records since the last one written, and always when the task closes. The
   * stores carry their own positions; the file is what they are checked against at the next
   * start, so an older one only makes that check weaker, never wrong.
   */
  checkpoint(force = false): void {
    const advanced = this.stores.reduce((n, s) => n + Math.max(0, (s.written ?? -1) - (this.checkpointed.get(s) ?? -1)), 0);
    if (!force && advanced < CHECKPOINT_DELTA) return;
    const offsets: Checkpoint = {};
    for (const s of this.stores) {
      if (s.written === undefined) continue;
      (offsets[s.spec.changelogTopic] ??= {})[String(s.partition)] = s.written;
    }
    writeCheckpoint(this.directory.path, offsets);
    for (const s of this.stores) if (s.written !== undefined) this.checkpointed.set(s, s.written);
  }

  /** Closes the stores (they stay on disk), with a checkpoint of what they hold, and releases the directory. */
  async close(): Promise<void> {
    try {
      this.checkpoint(true);
    } catch (err) {
      this.log.warn({ err: describeCause(err) }, 'checkpoint not written; the next start restores more of the changelog');
    }
    await Promise.all(this.stores.map((s) => s.bytes.close().catch((err) => this.log.warn({ err: describeCause(err) }, 'store did not close cleanly'))));
    await this.directory.release();
  }
}

/**
 * Opens a store and decides whether its data can be trusted: its recorded changelog position
 * must be there, for this changelog partition, and no older than the checkpoint file's (which
 * is written after the data). Otherwise, or when its files are corrupt, it is wiped.
 */
async function openTrusted(
  spec: CompiledStore,
  partition: number,
  location: string,
  checkpointed: number | undefined,
  wipe: boolean,
  log: Logger,
): Promise<{ bytes: LevelDbStore; restoreFrom: number | undefined }> {
  let bytes: LevelDbStore | undefined;
  let doubt: string | undefined = wipe ? 'its data was found damaged' : undefined;
  try {
    bytes = await LevelDbStore.open(spec.name, location);
    if (doubt === undefined) {
      const recorded = bytes.position();
      doubt = distrust(recorded, checkpointed, spec.changelogTopic, partition, bytes.created);
      if (doubt === undefined) return { bytes, restoreFrom: recorded?.offset };
    }
  } catch (err) {
    if (!(err instanceof StoreOpenError && err.corrupt) && !(err instanceof StoreCorruptedError)) throw err;
    doubt = `its files are corrupt (${describeCause(err)})`;
  }
  log.warn({ store: spec.name, checkpoint: checkpointed, reason: doubt }, `store cannot be trusted: ${doubt}; wiping it and restoring it from its changelog`);
  await bytes?.close().catch(() => undefined);
  LevelDbStore.wipe(location);
  return { bytes: await LevelDbStore.open(spec.name, location), restoreFrom: undefined };
}

/** Why a store's data cannot be trusted, or undefined when it can. */
export function distrust(
  recorded: StorePosition | undefined,
  checkpointed: number | undefined,
  topic: string,
  partition: number,
  created: boolean,
): string | undefined {
  if (recorded !== undefined && (recorded.topic !== topic || recorded.partition !== partition)) {
    return `it holds the state of ${recorded.topic}[${recorded.partition}], not ${topic}[${partition}]`;
  }
  if (checkpointed !== undefined && recorded === undefined) return `its checkpoint says it reflects its changelog up to ${checkpointed}, but its files record no position (lost or replaced)`;
  if (checkpointed !== undefined && recorded!.offset < checkpointed) return `its files reflect its changelog up to ${recorded!.offset}, behind its checkpoint's ${checkpointed} (data lost, e.g. a truncated log)`;
  if (recorded === undefined && !created) return 'its files record no changelog position';
  return undefined;
}

/** The end of the newest segment a windowed store holds (its keys start with their segment), or -∞ when it holds none. */
async function windowBound(bytes: LevelDbStore, segmentIntervalMs: number): Promise<number> {
  for await (const [key] of bytes.range({ to: SEGMENTS_END, reverse: true, limit: 1 })) return (readTime(key, 0) + 1) * segmentIntervalMs;
  return Number.NEGATIVE_INFINITY;
}
