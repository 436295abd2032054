import type pg from 'pg';
import { describeCause, ExternalSystemUnavailable } from '../../errors.ts';
import type { ConsumedRecord, RecordHeader } from '../../kafka/records.ts';
import type { ProcessorSupplier } from '../../processors/processor.ts';
import { borrowPool, isTransient, isTransientConnectFailure } from './pools.ts';

/** What a sink's `write` gets: the connection of the record's transaction. */
export interface PostgresTransaction {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

/** A record whose write failed for good, as the sink's `failed` stream carries it. */
export interface FailedWrite<V> {
  value: V;
  error: string;
}

export interface PostgresSinkSettings<K, V> {
  /** The sink's name: with the topic and partition, the row of its position in `offsetsTable`. */
  sink: string;
  connectionString: string;
  /** Writes one record; runs inside the record's transaction (do not commit or roll back). */
  write: (tx: PostgresTransaction, key: K, value: V) => Promise<void>;
  offsetsTable: string;
  /** Runs once per task before its first write, in its own transaction: `CREATE TABLE IF NOT EXISTS ...`. */
  setup?: (tx: PostgresTransaction) => Promise<void>;
  /** Told of each record right after its transaction committed (metrics: latency). */
  onWritten?: (key: K, value: V) => void;
  /**
   * Records taken before the sink asks the loop to commit (and so to pass them on), and the most
   * that may still be unwritten when a commit passes on the others: beyond, the commit waits.
   */
  maxPending: number;
  poolSize: number;
  routes: { applied: string; failed: string };
}

/** What became of a record: written, or failed for good; `again` when that happened before. */
type Outcome = { written: true; again: boolean } | { failed: Error; again: boolean };

/** A record taken, its outcome once its write finished, and the end of its write. */
interface Slot {
  entry: Pending;
  outcome: Outcome | undefined;
  done: Promise<void>;
}

interface Pending {
  key: unknown;
  value: unknown;
  raw: ConsumedRecord;
  timestamp: number;
  headers: RecordHeader[] | undefined;
}

/**
 * The PostgreSQL sink: each record (a batch, typically) is written in one database transaction
 * together with the position after it (`offsetsTable`: sink, topic, partition → next offset).
 * A record before that position was written already (the commit that followed did not happen:
 * a crash, a rebalance, an aborted transaction): it is passed on, not written again. So a record
 * is written once, whatever the guarantee; the records passed on (`applied`) carry exactly-once
 * to Kafka under exactly-once.
 *
 * The records are written as they arrive, one after another in offset order, while the loop
 * goes on; a commit passes on what the finished writes did and commits the task's position only
 * up to the first record still being written (the processor API's `holdPosition`). A transient failure
 * (the database is away) rolls the record's transaction back, stops the writing and makes the
 * commit throw {@link ExternalSystemUnavailable}: the tasks go back to the last commit and try
 * again after a pause. Any other failure fails the record for good: its transaction is rolled back,
 * the node's error handling gets its original bytes (a dead-letter topic), and it goes to
 * `failed` with the reason.
 *
 * The sink must read its topic directly (the DSL puts a topic in front of it if needed): the
 * positions it keeps are that topic's offsets.
 */
export function postgresSink<K, V>(settings: PostgresSinkSettings<K, V>): ProcessorSupplier {
  return ({ name, context, children, onCommit, holdPosition, onClose, requestCommit, record, fail, restoreContext, log }) => {
    const applied = children.get(settings.routes.applied)!;
    const failed = children.get(settings.routes.failed)!;
    const { pool, giveBack } = borrowPool(settings.connectionString, settings.poolSize);
    const tables = { offsets: quoteIdentifier(settings.offsetsTable), failed: quoteIdentifier(`${settings.offsetsTable}_failed`) };
    let tablesReady = false;

    const connect = () =>
      pool.connect().catch((err) => {
        throw isTransientConnectFailure(err) ? new ExternalSystemUnavailable(name, err) : err;
      });

    /**
     * Writes one record in its own transaction with the position after it. The position's row is
     * locked first, so two writers of a partition (a zombie and the new owner) queue on it; a
     * record before the position was handled already: its earlier outcome (written, or failed
     * for good) is returned and nothing is written.
     */
    const writeOne = async (entry: Pending): Promise<Outcome> => {
      const client = await connect();
      let healthy = true;
      const where = [settings.sink, entry.raw.topic, entry.raw.partition];
      const after = entry.raw.offset + 1;
      try {
        await client.query('BEGIN');
        const move = () => client.query(`UPDATE ${tables.offsets} SET next_offset = $4 WHERE sink = $1 AND topic = $2 AND partition = $3 AND next_offset <= $5`, [...where, after, entry.raw.offset]);
        // No row moved: the partition's first record, or the position is past this record. An
        // insert settles the first case; if another writer created the row meanwhile, the insert
        // waits for it and the update decides again.
        const placed =
          (await move()).rowCount === 1 ||
          (await client.query(`INSERT INTO ${tables.offsets} (sink, topic, partition, next_offset) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [...where, after])).rowCount === 1 ||
          (await move()).rowCount === 1;
        if (!placed) {
          const earlier = await client.query<{ error: string }>(`SELECT error FROM ${tables.failed} WHERE sink = $1 AND topic = $2 AND partition = $3 AND "offset" = $4`, [...where, entry.raw.offset]);
          await client.query('ROLLBACK');
          return earlier.rows.length > 0 ? { failed: new Error(earlier.rows[0]!.error), again: true } : { written: true, again: true };
        }
        await settings.write(client, entry.key as K, entry.value as V);
        await client.query('COMMIT');
        return { written: true, again: false };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (healthy = false));
        if (isTransient(err) || !healthy) throw new ExternalSystemUnavailable(name, err);
        const error = err instanceof Error ? err : new Error(String(err));
        // Remembered with the position, so a replay of this record fails it again rather than
        // taking it for written.
        await client.query(
          `WITH failure AS (INSERT INTO ${tables.failed} (sink, topic, partition, "offset", error) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING)
           INSERT INTO ${tables.offsets} (sink, topic, partition, next_offset) VALUES ($1, $2, $3, $4 + 1)
           ON CONFLICT (sink, topic, partition) DO UPDATE SET next_offset = GREATEST(${tables.offsets}.next_offset, EXCLUDED.next_offset)`,
          [...where, entry.raw.offset, describeCause(error)],
        ).catch((recordError) => {
          healthy = healthy && !isTransient(recordError);
          throw new ExternalSystemUnavailable(name, recordError);
        });
        return { failed: error, again: false };
      } finally {
        // A client whose connection failed must not go back into the pool.
        client.release(healthy ? undefined : true);
      }
    };

    const setUp = async (): Promise<void> => {
      if (tablesReady) return;
      const client = await connect();
      try {
        // One transaction under a lock: tasks and instances starting side by side would
        // otherwise race to create the same tables (CREATE TABLE IF NOT EXISTS is not atomic).
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK]);
        await createTables(client, tables);
        await settings.setup?.(client);
        await client.query('COMMIT');
        tablesReady = true;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw isTransient(err) ? new ExternalSystemUnavailable(name, err) : err;
      } finally {
        client.release(tablesReady ? undefined : true);
      }
    };

    // Writes start as records arrive, one after another in offset order, so the database works
    // while the loop goes on processing. A commit passes on what the finished writes did (inside
    // the commit, so under exactly-once with the offsets) and holds the task's position at the
    // first record still being written: those records commit at a later commit, or, after a
    // crash, are read again and found written. Only when more than `maxPending` records are
    // unwritten does a commit wait for the oldest (so a slow database slows the reading down
    // rather than the queue growing), and a draining commit waits for all of them. After a
    // failure nothing more is written until the commit has taken the tasks back.
    let writing: Promise<void> = Promise.resolve();
    let taken: Slot[] = [];
    let stopped: unknown;

    const passOn = ({ entry, outcome }: Slot) => {
      restoreContext({ timestamp: entry.timestamp, headers: entry.headers });
      if ('failed' in outcome!) {
        const reason = describeCause(outcome.failed);
        log.warn({ topic: entry.raw.topic, partition: entry.raw.partition, offset: entry.raw.offset, err: reason, again: outcome.again }, 'write failed for good; rolled back');
        fail(entry.raw, outcome.failed);
        failed(entry.key, { value: entry.value, error: reason } satisfies FailedWrite<unknown>);
      } else {
        applied(entry.key, entry.value);
      }
    };

    onCommit(async ({ drain }) => {
      if (drain) await writing;
      else if (taken.length > settings.maxPending) await taken[taken.length - settings.maxPending - 1]!.done;
      if (stopped !== undefined) throw stopped;
      let finished = 0;
      while (finished < taken.length && taken[finished]!.outcome !== undefined) finished++;
      const done = taken.slice(0, finished);
      taken = taken.slice(finished);
      for (const slot of done) passOn(slot);
    });
    holdPosition(() => (taken.length === 0 ? undefined : { topic: taken[0]!.entry.raw.topic, offset: taken[0]!.entry.raw.offset }));
    // A closing task lets its last write finish before it gives the pool back (the next owner
    // would wait on the position's lock anyway).
    onClose(async () => {
      await writing;
      await giveBack();
    });

    return (key, value) => {
      const raw = record();
      // Outside a record (a punctuation upstream) there is no position to keep.
      if (raw === undefined) throw new Error('the PostgreSQL sink takes records read from a topic, not forwarded by a punctuation');
      const slot: Slot = { entry: { key, value, raw, timestamp: context.timestamp, headers: context.headers }, outcome: undefined, done: writing };
      taken.push(slot);
      writing = slot.done = writing.then(async () => {
        if (stopped !== undefined) return;
        try {
          await setUp();
          slot.outcome = await writeOne(slot.entry);
          if (!slot.outcome.again && 'written' in slot.outcome) settings.onWritten?.(slot.entry.key as K, slot.entry.value as V);
        } catch (err) {
          stopped = err;
        }
      });
      if (taken.length >= settings.maxPending) requestCommit();
    };
  };
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

/** A table name as an SQL identifier: `schema.table` or `table`, each part quoted. */
export function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/.test(name)) throw new RangeError(`"${name}" is not a valid table name`);
  return name
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}
