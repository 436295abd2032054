import type { BytesStore } from '../../state/bytes-store.ts';
import { CachingStore } from '../../state/caching-store.ts';
import { ChangeLoggingStore } from '../../state/change-logging-store.ts';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../../state/checkpoint.ts';
import { LevelDbStore, StoreOpenError } from '../../state/leveldb/level-store.ts';
import { ExpiringStore, stampedCodec } from '../../state/expiring-store.ts';
import { MeteredStore } from '../../state/metered-store.ts';
import { CommittedReader } from '../../state/committed-reader.ts';
import { TaskDirectory, TaskDirectoryLockedError } from '../../state/task-directory.ts';
import { ApplicationError, describeCause, IllegalStateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { CompiledStore } from '../topology/compiled.ts';
import type { RecordOutput } from './record-output.ts';

/** Expired entries each store with a TTL examines per commit. */
const SWEEP_BATCH = 1000;
/** Changelog records since the last checkpoint that make a commit write a new one. */
const CHECKPOINT_DELTA = 10_000;

/** One store of a task: its LevelDB, the layers over it, and how far its changelog is applied. */
export interface TaskStore {
  readonly spec: CompiledStore;
  readonly partition: number;
  bytes: LevelDbStore;
  /** The checkpointed changelog position, if the checkpoint can be used. */
  checkpointed: number | undefined;
  /** The next changelog offset the store reflects; known once restored. */
  position: number;
  cache?: CachingStore<unknown, unknown>;
  /** The expiry layer of a store with a TTL. */
  expiring?: ExpiringStore<unknown, unknown>;
  store?: MeteredStore<unknown, unknown>;
  /** Reads the committed state, for interactive queries. */
  reader?: CommittedReader<unknown, unknown>;
  /** A preloaded store's entries as restored, held until the task's processors are built. */
  restored?: Array<[Buffer, Buffer]>;
}

export interface TaskStateOptions {
  stateDir: string;
  applicationId: string;
  log: Logger;
  /** How long to wait for another process (an old owner) to release the task's directory. */
  lockTimeoutMs?: number;
}

/**
 * The state of one task: its directory (locked for this process), one LevelDB per store under
 * `<state-dir>/<application.id>/<task>/<store>`, and its checkpoint. Restoration works on the
 * bare LevelDBs; `activate` then stacks metering, caching and change-logging over them.
 */
export class TaskState {
  readonly taskId: string;
  readonly stores: TaskStore[];
  private readonly directory: TaskDirectory;
  private readonly log: Logger;
  /** Each store's position in the last checkpoint written. */
  private readonly checkpointed = new Map<TaskStore, number>();
  /** The last commit's checkpoint, when it was not written yet. */
  private unwritten: Checkpoint | undefined;

  private constructor(taskId: string, directory: TaskDirectory, stores: TaskStore[], log: Logger) {
    this.taskId = taskId;
    this.directory = directory;
    this.stores = stores;
    this.log = log;
  }

  /** Locks the directory, opens every store (wiping a corrupt one) and reads the checkpoint. */
  static async open(taskId: string, partition: number, specs: CompiledStore[], options: TaskStateOptions): Promise<TaskState> {
    const directory = new TaskDirectory(options.stateDir, options.applicationId, taskId);
    await lockWithRetry(directory, options.lockTimeoutMs ?? 60_000);
    const log = options.log.child({ task: taskId });
    const checkpoint = readCheckpoint(directory.path);
    const stores: TaskStore[] = [];
    try {
      for (const spec of specs) {
        const location = directory.storePath(spec.name);
        let bytes: LevelDbStore;
        let checkpointed = checkpoint?.[spec.changelogTopic]?.[String(partition)];
        try {
          bytes = await LevelDbStore.open(spec.name, location);
        } catch (err) {
          if (!(err instanceof StoreOpenError && err.corrupt)) throw err;
          log.warn({ store: spec.name, err: describeCause(err) }, 'store is corrupt; wiping it and restoring from the changelog');
          LevelDbStore.wipe(location);
          bytes = await LevelDbStore.open(spec.name, location);
          checkpointed = undefined;
        }
        stores.push({ spec, partition, bytes, checkpointed, position: -1 });
      }
    } catch (err) {
      await Promise.all(stores.map((s) => s.bytes.close().catch(() => undefined)));
      directory.unlock();
      throw err;
    }
    return new TaskState(taskId, directory, stores, log);
  }

  /** Deletes a store's data (it will be restored from the beginning of its changelog). */
  async wipe(store: TaskStore): Promise<void> {
    await store.bytes.close();
    LevelDbStore.wipe(store.bytes.location);
    store.bytes = await LevelDbStore.open(store.spec.name, store.bytes.location);
    store.checkpointed = undefined;
    store.reader = undefined;
  }

  /**
   * Reads the restored entries of every store declared with `preload` into memory. LevelDB scans
   * are asynchronous and processors must not await, so this runs between restoration and the
   * task's start; the task hands the entries to its processors and then lets them go.
   */
  async preload(): Promise<void> {
    for (const s of this.stores) {
      if (!s.spec.preload) continue;
      const entries: Array<[Buffer, Buffer]> = [];
      for await (const entry of s.bytes.range()) entries.push(entry);
      s.restored = entries;
    }
  }

  /** A preloaded store's restored entries, decoded, in the byte order of their keys. */
  restoredEntries(name: string): Array<[unknown, unknown]> {
    const s = this.store(name);
    if (!s.spec.preload) throw new IllegalStateError(`Store "${name}" is not preloaded; declare it with preload: true to read its restored entries.`);
    if (s.restored === undefined) throw new IllegalStateError(`The restored entries of store "${name}" are only available while the task's processors are built.`);
    const { keySerde, valueSerde, changelogTopic } = s.spec;
    return s.restored.map(([key, value]) => [keySerde.deserialize(key, changelogTopic), valueSerde.deserialize(value, changelogTopic)]);
  }

  /** Drops the preloaded entries once the processors have read them. */
  releaseRestored(): void {
    for (const s of this.stores) s.restored = undefined;
  }

  /** Stacks the layers over the restored stores; changes go to the changelog through `producer`. */
  activate(producer: RecordOutput, onPressure: () => void, now: () => number): void {
    for (const s of this.stores) {
      const { spec, partition } = s;
      let below: BytesStore = s.bytes;
      if (!spec.sourceChangelog) {
        below = new ChangeLoggingStore(s.bytes, {
          send: (key, value, timestamp) => producer.send({ topic: spec.changelogTopic, partition, key, value, timestamp }),
        });
      }
      if (spec.ttlMs === undefined) {
        s.cache = new CachingStore(below, spec.keySerde, spec.valueSerde, spec.changelogTopic, { enabled: spec.caching, onPressure });
        s.store = new MeteredStore(s.cache);
      } else {
        const stamped = new CachingStore(below, spec.keySerde, stampedCodec(spec.valueSerde), spec.changelogTopic, { enabled: spec.caching, onPressure });
        s.cache = stamped as CachingStore<unknown, unknown>;
        s.expiring = new ExpiringStore(stamped, { ttlMs: spec.ttlMs, now });
        s.store = new MeteredStore(s.expiring);
      }
    }
  }

  /** A reader of what this store has committed (for queries from outside the task). */
  reader(name: string, now: () => number): CommittedReader<unknown, unknown> | undefined {
    const found = this.stores.find((s) => s.spec.name === name);
    if (!found) return undefined;
    const { spec } = found;
    found.reader ??= new CommittedReader(found.bytes, spec.keySerde, spec.valueSerde, spec.changelogTopic, { ttlMs: spec.ttlMs, now });
    return found.reader;
  }

  /** About how many bytes each store takes on disk. */
  async sizes(): Promise<Array<{ store: string; partition: number; bytes: number }>> {
    return Promise.all(this.stores.map(async (s) => ({ store: s.spec.name, partition: s.partition, bytes: await s.bytes.approximateSize().catch(() => 0) })));
  }

  store(name: string): TaskStore {
    const found = this.stores.find((s) => s.spec.name === name);
    if (!found?.store) throw new ApplicationError(`Task ${this.taskId} has no store "${name}".`);
    return found;
  }

  /** Deletes up to {@link SWEEP_BATCH} expired entries of each store with a TTL whose sweep is due. */
  async sweepExpired(): Promise<void> {
    const now = Date.now();
    for (const s of this.stores) if (s.expiring?.sweepDue(now)) await s.expiring.sweep(SWEEP_BATCH);
  }

  /** Passes every cached change down (to the changelog, and to the flush listeners). */
  flush(): void {
    for (const s of this.stores) s.cache!.flush();
  }

  /** Writes the staged changes of every store to LevelDB. */
  async write(): Promise<void> {
    await Promise.all(this.stores.map((s) => s.bytes.write()));
  }

  /**
   * Records how far each store's changelog is applied: the acknowledged changelog offsets, or,
   * for a table over a topic, the task's position in that topic.
   */
  checkpoint(producer: RecordOutput, inputPosition: (topic: string) => number | undefined): void {
    const offsets: Checkpoint = {};
    for (const s of this.stores) {
      const position = s.spec.sourceChangelog ? inputPosition(s.spec.changelogTopic) : producer.deliveredOffset(s.spec.changelogTopic, s.partition);
      if (position !== undefined) s.position = Math.max(s.position, s.spec.sourceChangelog ? position : position + 1);
      (offsets[s.spec.changelogTopic] ??= {})[String(s.partition)] = s.position;
    }
    // As Kafka Streams does: a checkpoint at a commit only once the changelogs moved on by
    // CHECKPOINT_DELTA records since the last one written, and always when the task closes. An
    // older checkpoint only makes a restart replay more of the changelog; writing one file per
    // task at every commit (every 100 ms under exactly-once) cost more than the commit itself.
    const advanced = this.stores.reduce((n, s) => n + Math.max(0, s.position - (this.checkpointed.get(s) ?? -1)), 0);
    this.unwritten = offsets;
    if (advanced >= CHECKPOINT_DELTA) this.writeUnwritten();
  }

  private writeUnwritten(): void {
    if (this.unwritten === undefined) return;
    writeCheckpoint(this.directory.path, this.unwritten);
    this.unwritten = undefined;
    for (const s of this.stores) this.checkpointed.set(s, s.position);
  }

  /** Closes the stores (they stay on disk), with the last commit's checkpoint, and releases the directory. */
  async close(): Promise<void> {
    try {
      this.writeUnwritten();
    } catch (err) {
      this.log.warn({ err: describeCause(err) }, 'checkpoint not written; the next start restores more of the changelog');
    }
    await Promise.all(this.stores.map((s) => s.bytes.close().catch((err) => this.log.warn({ err: describeCause(err) }, 'store did not close cleanly'))));
    this.directory.unlock();
  }
}

async function lockWithRetry(directory: TaskDirectory, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      directory.lock();
      return;
    } catch (err) {
      if (!(err instanceof TaskDirectoryLockedError) || Date.now() > deadline) {
        throw new ApplicationError(`Cannot take the state directory: ${describeCause(err)}`, { cause: err });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
