import type pg from 'pg';
import { ConfigError, describeCause, ExternalSystemUnavailable } from '../../errors.ts';
import type { CommitWork, TopicOffset } from '../../processors/processor.ts';
import type { Sink, SinkContext, SinkOutcome, SinkRecord, SinkTask } from '../../processors/sink.ts';
import { borrowPool, isTransient, isTransientConnectFailure } from './pools.ts';

/** What a sink's `write` gets: the connection of the record's transaction. */
export interface PostgresTransaction {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

/** Options of `toPostgres`. */
export interface PostgresSinkOptions<K, V> {
  /** Writes one record inside its transaction: upserts, deletes. Do not commit or roll back. */
  write: (tx: PostgresTransaction, key: K, value: V) => Promise<void>;
  /** Default: the `DATABASE_URL` environment variable when the application starts. */
  connectionString?: string;
  /** The table of the sink's positions (another, `<table>_failed`, keeps what failed for good). Default `sluice_sink_offsets`. */
  offsetsTable?: string;
  /** Runs once per task before its first write, in a transaction of its own: `CREATE TABLE IF NOT EXISTS ...`. */
  setup?: (tx: PostgresTransaction) => Promise<void>;
  /** Told of each record right after its transaction committed (metrics: latency). */
  onWritten?: (key: K, value: V) => void;
  /**
   * Records taken before the sink asks for a commit, which passes on those written; also the most
   * that may still be unwritten at a commit before it waits for the database. Default 100.
   */
  maxPending?: number;
  /** Connections the instance's pool may open. Default 4. */
  poolSize?: number;
}

/** The settings of one task's sink, checked and completed. */
interface Settings<K, V> extends Required<Pick<PostgresSinkOptions<K, V>, 'write' | 'offsetsTable' | 'maxPending' | 'poolSize'>> {
  /** The sink's name: with the topic and partition, the row of its position in `offsetsTable`. */
  sink: string;
  connectionString: string;
  setup?: (tx: PostgresTransaction) => Promise<void>;
  onWritten?: (key: K, value: V) => void;
}

/** What became of a record: written, or failed for good; `again` when that happened before. */
type Outcome = { written: true; again: boolean } | { failed: Error; again: boolean };

/** A record taken, its outcome once its write finished, and the end of its write. */
interface Slot<K, V> {
  record: SinkRecord<K, V>;
  outcome: Outcome | undefined;
  done: Promise<void>;
}

/**
 * The PostgreSQL sink, for `stream.sink(toPostgres({ write }))`: each record (a batch, typically)
 * is written in one database transaction together with the position after it (`offsetsTable`:
 * sink, topic, partition → next offset). A record before that position was written already (the
 * commit that followed did not happen: a crash, a rebalance, an aborted transaction): it is
 * passed on, not written again. So a record is written once, whatever the guarantee; the records
 * passed on (`applied`) carry exactly-once to Kafka under exactly-once.
 *
 * The records are written as they arrive, one after another in offset order, while the loop goes
 * on; a commit passes on what the finished writes did and commits the task's position only up to
 * the first record still being written. A transient failure (the database is away) rolls the
 * record's transaction back, stops the writing and makes the commit throw
 * {@link ExternalSystemUnavailable}: the tasks go back to the last commit and try again after a
 * pause. Any other failure fails the record for good: its transaction is rolled back, the node's
 * error handling gets its original bytes (a dead-letter topic), and it goes to `failed` with the
 * reason.
 *
 * @example
 * ```ts
 * const { applied, failed } = rows.sink(toPostgres({ write: (tx, key, row) => upsert(tx, key, row) }), { name: 'rows' });
 * ```
 */
export function toPostgres<K, V>(options: PostgresSinkOptions<K, V>): Sink<K, V> {
  const offsetsTable = options.offsetsTable ?? 'sluice_sink_offsets';
  const maxPending = options.maxPending ?? 100;
  const poolSize = options.poolSize ?? 4;
  return {
    kind: 'postgres',
    check() {
      if (typeof options.write !== 'function') throw new Error('toPostgres needs a write(tx, key, value) function.');
      if (!Number.isInteger(maxPending) || maxPending < 1) throw new Error('maxPending must be a positive integer.');
      if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error('poolSize must be a positive integer.');
      quoteIdentifier(offsetsTable, 'offsetsTable');
    },
    open(context) {
      const connectionString = options.connectionString ?? process.env.DATABASE_URL;
      if (!connectionString) throw new ConfigError(`toPostgres "${context.name}" has no database: set DATABASE_URL or give connectionString.`);
      const { write, setup, onWritten } = options;
      return new PostgresSinkTask<K, V>({ sink: context.name, connectionString, write, setup, onWritten, offsetsTable, maxPending, poolSize }, context);
    },
  };
}

/** The PostgreSQL sink in one task: its pool, the records taken and the writes in flight. */
class PostgresSinkTask<K, V> implements SinkTask<K, V> {
  private readonly settings: Settings<K, V>;
  private readonly context: SinkContext;
  private readonly pool: pg.Pool;
  private readonly giveBack: () => Promise<void>;
  private readonly tables: { offsets: string; failed: string };
  private tablesReady = false;
  // Writes start as records arrive, one after another in offset order, so the database works
  // while the loop goes on processing. A commit passes on what the finished writes did (inside
  // the commit, so under exactly-once with the offsets) and holds the task's position at the
  // first record still being written: those records commit at a later commit, or, after a
  // crash, are read again and found written. Only when more than `maxPending` records are
  // unwritten does a commit wait for the oldest (so a slow database slows the reading down
  // rather than the queue growing), and a draining commit waits for all of them. After a
  // failure nothing more is written until the commit has taken the tasks back.
  private writing: Promise<void> = Promise.resolve();
  private taken: Array<Slot<K, V>> = [];
  private stopped: unknown;

  constructor(settings: Settings<K, V>, context: SinkContext) {
    this.settings = settings;
    this.context = context;
    ({ pool: this.pool, giveBack: this.giveBack } = borrowPool(settings.connectionString, settings.poolSize));
    this.tables = { offsets: quoteIdentifier(settings.offsetsTable), failed: quoteIdentifier(`${settings.offsetsTable}_failed`) };
  }

  take(record: SinkRecord<K, V>): void {
    const slot: Slot<K, V> = { record, outcome: undefined, done: this.writing };
    this.taken.push(slot);
    this.writing = slot.done = this.writing.then(async () => {
      if (this.stopped !== undefined) return;
      try {
        await this.setUp();
        slot.outcome = await this.writeOne(record);
        if (!slot.outcome.again && 'written' in slot.outcome) this.settings.onWritten?.(record.key, record.value);
      } catch (err) {
        this.stopped = err;
      }
    });
    if (this.taken.length >= this.settings.maxPending) this.context.requestCommit();
  }

  async commit({ drain }: CommitWork): Promise<Array<SinkOutcome<K, V>>> {
    const { maxPending } = this.settings;
    if (drain) await this.writing;
    else if (this.taken.length > maxPending) await this.taken[this.taken.length - maxPending - 1]!.done;
    if (this.stopped !== undefined) throw this.stopped;
    let finished = 0;
    while (finished < this.taken.length && this.taken[finished]!.outcome !== undefined) finished++;
    const done = this.taken.slice(0, finished);
    this.taken = this.taken.slice(finished);
    return done.map(({ record, outcome }) => ('failed' in outcome! ? { record, error: outcome.failed, again: outcome.again } : { record, again: outcome!.again }));
  }

  position(): TopicOffset | undefined {
    const first = this.taken[0]?.record.raw;
    return first === undefined ? undefined : { topic: first.topic, offset: first.offset };
  }

  /** A closing task lets its last write finish before it gives the pool back (the next owner would wait on the position's lock anyway). */
  async close(): Promise<void> {
    await this.writing;
    await this.giveBack();
  }

  private connect(): Promise<pg.PoolClient> {
    return this.pool.connect().catch((err) => {
      throw isTransientConnectFailure(err) ? new ExternalSystemUnavailable(this.context.name, err) : err;
    });
  }

  private async writeOne(entry: SinkRecord<K, V>): Promise<Outcome> {
    const client = await this.connect();
    let healthy = true;
    const where = [this.settings.sink, entry.raw.topic, entry.raw.partition];
    const after = entry.raw.offset + 1;
    try {
      await client.query('BEGIN');
      const move = () => client.query(`UPDATE ${this.tables.offsets} SET next_offset = $4 WHERE sink = $1 AND topic = $2 AND partition = $3 AND next_offset <= $5`, [...where, after, entry.raw.offset]);
      // No row moved: the partition's first record, or the position is past this record. An
      // insert settles the first case; if another writer created the row meanwhile, the insert
      // waits for it and the update decides again.
      const placed =
        (await move()).rowCount === 1 ||
        (await client.query(`INSERT INTO ${this.tables.offsets} (sink, topic, partition, next_offset) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [...where, after])).rowCount === 1 ||
        (await move()).rowCount === 1;
      if (!placed) {
        const earlier = await client.query<{ error: string }>(`SELECT error FROM ${this.tables.failed} WHERE sink = $1 AND topic = $2 AND partition = $3 AND "offset" = $4`, [...where, entry.raw.offset]);
        await client.query('ROLLBACK');
        return earlier.rows.length > 0 ? { failed: new Error(earlier.rows[0]!.error), again: true } : { written: true, again: true };
      }
      await this.settings.write(client, entry.key, entry.value);
      await client.query('COMMIT');
      return { written: true, again: false };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (healthy = false));
      if (isTransient(err) || !healthy) throw new ExternalSystemUnavailable(this.context.name, err);
      const error = err instanceof Error ? err : new Error(String(err));
      // Remembered with the position, so a replay of this record fails it again rather than
      // taking it for written.
      await client.query(
        `WITH failure AS (INSERT INTO ${this.tables.failed} (sink, topic, partition, "offset", error) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING)
         INSERT INTO ${this.tables.offsets} (sink, topic, partition, next_offset) VALUES ($1, $2, $3, $4 + 1)
         ON CONFLICT (sink, topic, partition) DO UPDATE SET next_offset = GREATEST(${this.tables.offsets}.next_offset, EXCLUDED.next_offset)`,
        [...where, entry.raw.offset, describeCause(error)],
      ).catch((recordError) => {
        healthy = healthy && !isTransient(recordError);
        throw new ExternalSystemUnavailable(this.context.name, recordError);
      });
      return { failed: error, again: false };
    } finally {
      // A client whose connection failed must not go back into the pool.
      client.release(healthy ? undefined : true);
    }
  }

  private async setUp(): Promise<void> {
    if (this.tablesReady) return;
    const client = await this.connect();
    try {
      // One transaction under a lock: tasks and instances starting side by side would
      // otherwise race to create the same tables (CREATE TABLE IF NOT EXISTS is not atomic).
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK]);
      await createTables(client, this.tables);
      await this.settings.setup?.(client);
      await client.query('COMMIT');
      this.tablesReady = true;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw isTransient(err) ? new ExternalSystemUnavailable(this.context.name, err) : err;
    } finally {
      client.release(this.tablesReady ? undefined : true);
    }
  }
}

/** The advisory lock the sinks' table set-up runs under (any number; the same in every process). */
const SETUP_LOCK = 0x5111ce;

/** Creates the sink's tables if they are missing: the positions, and the records that failed for good. */
async function createTables(client: pg.PoolClient, tables: { offsets: string; failed: string }): Promise<void> {
  await client.query(`CREATE TABLE IF NOT EXISTS ${tables.offsets} (sink text NOT NULL, topic text NOT NULL, partition integer NOT NULL, next_offset bigint NOT NULL, PRIMARY KEY (sink, topic, partition))`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${tables.failed} (sink text NOT NULL, topic text NOT NULL, partition integer NOT NULL, "offset" bigint NOT NULL, error text NOT NULL, failed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (sink, topic, partition, "offset"))`,
  );
}

/** A table name as an SQL identifier: `schema.table` or `table`, each part quoted; `option` names the setting in the error. */
export function quoteIdentifier(name: string, option = 'the table'): string {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/.test(name)) throw new Error(`${option}: "${String(name)}" is not a valid table name (table or schema.table).`);
  return name
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}
