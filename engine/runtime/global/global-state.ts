import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../../../state/checkpoint.ts';
import { LevelDbStore, StoreCorruptedError, StoreOpenError } from '../../../state/leveldb/level-store.ts';
import { TaskDirectory } from '../../../state/task-directory.ts';
import { ApplicationError, describeCause } from '../../errors.ts';
import type { ConsumedRecord } from '../../kafka/records.ts';
import type { Logger } from '../../observability/logger.ts';
import type { CompiledGlobalStore } from '../../topology/compiled.ts';
import type { RecordErrors } from '../record-errors.ts';
import { GlobalStore } from './global-store.ts';

/** The folder of the global stores under `<state-dir>/<application.id>/`, beside the tasks' (as Kafka Streams' `global`). */
export const GLOBAL_DIRECTORY = 'global';

export interface GlobalStateOptions {
  stateDir: string;
  applicationId: string;
  log: Logger;
  /** How long to wait for another process (an instance stopping) to release the directory. */
  lockTimeoutMs?: number;
}

/**
 * The global tables' stores of this instance: one LevelDB each under
 * `<state-dir>/<application.id>/global/<store>`, locked for this process, and one checkpoint file
 * with the offsets each has applied, per topic and partition, so that a restart reads only what
 * is new. A store whose files and checkpoint disagree (files without a checkpoint, a checkpoint
 * without files, files LevelDB finds corrupt) cannot be trusted: it is wiped, to be rebuilt from
 * the beginning of its topic, never served.
 */
export class GlobalState {
  readonly stores: readonly GlobalStore[];
  private readonly directory: TaskDirectory | undefined;
  private readonly log: Logger;
  private readonly byTopic: Map<string, GlobalStore>;

  private constructor(directory: TaskDirectory | undefined, stores: GlobalStore[], log: Logger) {
    this.directory = directory;
    this.stores = stores;
    this.log = log;
    this.byTopic = new Map(stores.map((s) => [s.spec.changelogTopic, s]));
  }

  /** Locks the directory and opens every store, wiping those that cannot be trusted. */
  static async open(specs: readonly CompiledGlobalStore[], options: GlobalStateOptions): Promise<GlobalState> {
    const log = options.log.child({ component: 'global-tables' });
    if (specs.length === 0) return new GlobalState(undefined, [], log);
    const directory = new TaskDirectory(options.stateDir, options.applicationId, GLOBAL_DIRECTORY);
    try {
      await directory.acquire(options.lockTimeoutMs ?? 60_000);
    } catch (err) {
      throw new ApplicationError(`Cannot take the state directory of the global tables: ${describeCause(err)}`, { cause: err });
    }
    const checkpoint = readCheckpoint(directory.path);
    const stores: GlobalStore[] = [];
    try {
      for (const spec of specs) stores.push(await openTrusted(spec, directory.storePath(spec.name), checkpoint?.[spec.changelogTopic], log));
    } catch (err) {
      await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
      await directory.release();
      throw err;
    }
    return new GlobalState(directory, stores, log);
  }

  /** The store of this name, if it is a global table's. */
  store(name: string): GlobalStore | undefined {
    return this.stores.find((s) => s.spec.name === name);
  }

  /** The store of the global table that reads `topic`, if any. */
  storeOf(topic: string): GlobalStore | undefined {
    return this.byTopic.get(topic);
  }

  /** Applies records of the global topics (mixed, as a consumer returns them), each to its store in order. */
  async apply(records: readonly ConsumedRecord[], errors: RecordErrors): Promise<void> {
    let start = 0;
    for (let i = 1; i <= records.length; i++) {
      if (i < records.length && records[i]!.topic === records[start]!.topic) continue;
      const store = this.storeOf(records[start]!.topic);
      if (store) await store.apply(records.slice(start, i), errors);
      start = i;
    }
  }

  /**
   * Writes the checkpoint file: the offsets each store has applied. Written after the data it
   * describes, so at worst it is behind them, and a restart applies some records again (the same
   * values, in the same order).
   */
  checkpoint(): void {
    if (!this.directory) return;
    const offsets: Checkpoint = {};
    for (const store of this.stores) {
      if (store.positions.size === 0) continue;
      const partitions = (offsets[store.spec.changelogTopic] = {} as Record<string, number>);
      for (const [partition, offset] of store.positions) partitions[String(partition)] = offset;
    }
    writeCheckpoint(this.directory.path, offsets);
  }

  /** Writes a last checkpoint, closes the stores (they stay on disk) and releases the directory. */
  async close(): Promise<void> {
    try {
      this.checkpoint();
    } catch (err) {
      this.log.warn({ err: describeCause(err) }, 'global tables checkpoint not written; the next start reads more of their topics');
    }
    await Promise.all(this.stores.map((s) => s.close().catch((err) => this.log.warn({ err: describeCause(err), store: s.spec.name }, 'global store did not close cleanly'))));
    await this.directory?.release();
  }
}

/**
 * Opens a store and decides whether its files can be trusted with the checkpoint's offsets: both
 * or neither must be there. Otherwise, or when its files are corrupt, it is wiped; the positions
 * of a trusted store are the checkpoint's (restoration then checks them against its topic).
 */
async function openTrusted(spec: CompiledGlobalStore, location: string, checkpointed: Record<string, number> | undefined, log: Logger): Promise<GlobalStore> {
  let store: GlobalStore | undefined;
  let doubt: string | undefined;
  try {
    store = new GlobalStore(spec, await LevelDbStore.open(spec.name, location));
    if (store.created && checkpointed !== undefined) doubt = 'its checkpoint records applied offsets, but its files are gone';
    else if (!store.created && checkpointed === undefined) doubt = 'its files have no checkpoint saying how far they reflect the topic';
  } catch (err) {
    if (!(err instanceof StoreOpenError && err.corrupt) && !(err instanceof StoreCorruptedError)) throw err;
    doubt = `its files are corrupt (${describeCause(err)})`;
  }
  if (store && doubt === undefined) {
    for (const [partition, offset] of Object.entries(checkpointed ?? {})) store.positions.set(Number(partition), offset);
    return store;
  }
  log.warn({ store: spec.name, reason: doubt }, `global store cannot be trusted: ${doubt}; wiping it and rebuilding it from its topic`);
  if (store) {
    await store.wipe();
    return store;
  }
  LevelDbStore.wipe(location);
  return new GlobalStore(spec, await LevelDbStore.open(spec.name, location));
}
