import type { CommittedReader } from '../../../state/committed-reader.ts';
import type { KeyValueStore } from '../../../state/key-value-store.ts';
import type { ConnectionOptions } from '../../kafka/config.ts';
import type { ConsumedRecord } from '../../kafka/records.ts';
import type { Logger } from '../../observability/logger.ts';
import type { CompiledGlobalStore, CompiledTopology } from '../../topology/compiled.ts';
import { StopProcessing, type RecordErrors } from '../record-errors.ts';
import type { RestoreProgress } from '../task/restore.ts';
import { restoreGlobalStores } from './global-restore.ts';
import { GlobalState } from './global-state.ts';
import { GlobalUpdater } from './global-updater.ts';

/** What the global tables need wherever they run. */
export interface GlobalTablesOptions {
  stateDir: string;
  applicationId: string;
  log: Logger;
  /** Counts records skipped and applies the tables' error handling. */
  errors: RecordErrors;
}

/** What they need in an application, against a broker. */
export interface GlobalStartOptions extends GlobalTablesOptions {
  connection: ConnectionOptions;
  /** The partition count of each global topic. */
  partitions: (topic: string) => number | undefined;
  /** How often the checkpoint is written while records come in. */
  checkpointIntervalMs: number;
  onProgress: (progress: RestoreProgress) => void;
  /** Told when they cannot be kept up to date; the application should stop. */
  onFatal: (err: unknown) => void;
}

/** A global store as queries read it. */
export interface QueryableGlobalStore {
  spec: CompiledGlobalStore;
  reader: CommittedReader<unknown, unknown>;
}

/**
 * The global tables of one instance (Kafka Streams' `GlobalKTable`s and their global stream
 * thread): their stores, whole on this instance, brought up to their topics' ends at start before
 * any task processes a record, then kept up to date in the background. Tasks read them by name
 * (`lookup`), queries through `queryable`.
 */
export class GlobalTables {
  private readonly state: GlobalState;
  private readonly errors: RecordErrors;
  private updater: GlobalUpdater | undefined;

  private constructor(state: GlobalState, errors: RecordErrors) {
    this.state = state;
    this.errors = errors;
  }

  /**
   * Opens the stores, restores them to their topics' ends and starts keeping them up to date.
   * Throws what stopped restoration (a record the `fail` handling refused: its error).
   */
  static async start(topology: CompiledTopology, options: GlobalStartOptions): Promise<GlobalTables> {
    const tables = await GlobalTables.open(topology, options);
    if (tables.state.stores.length === 0) return tables;
    try {
      await restoreGlobalStores(tables.state, options).catch(rethrowReason);
      const onFatal = (err: unknown) => options.onFatal(err instanceof StopProcessing ? err.reason : err);
      tables.updater = await GlobalUpdater.start(tables.state, { ...options, onFatal });
    } catch (err) {
      await tables.close();
      throw err;
    }
    return tables;
  }

  /** Opens the stores as they are, with nothing to restore or follow: the test driver applies records itself. */
  static async open(topology: CompiledTopology, options: GlobalTablesOptions): Promise<GlobalTables> {
    return new GlobalTables(await GlobalState.open(topology.globalStores, options), options.errors);
  }

  /** A global store as processors read it (read-only), or undefined when `name` is none. */
  readonly lookup = (name: string): KeyValueStore<unknown, unknown> | undefined => this.state.store(name)?.view;

  /** Every global store, for queries. */
  queryable(): QueryableGlobalStore[] {
    return this.state.stores.map((store) => ({ spec: store.spec, reader: store.reader() }));
  }

  /** Applies records of global topics at once (the test driver's writes). Throws what the `fail` handling throws. */
  apply(records: readonly ConsumedRecord[]): Promise<void> {
    return this.state.apply(records, this.errors).catch(rethrowReason);
  }

  /** Stops following the topics, writes the checkpoint and closes the stores. */
  async close(): Promise<void> {
    await this.updater?.stop();
    this.updater = undefined;
    await this.state.close();
  }
}

/** A record's `fail` handling stops with a StopProcessing; its caller gets the reason. */
function rethrowReason(err: unknown): never {
  throw err instanceof StopProcessing ? err.reason : err;
}
