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
  /** Records taken before the sink asks the loop to commit (and so to pass them on). */
  maxPending: number;
  poolSize: number;
  routes: { applied: string; failed: string };
}

/** What became of a record: written, or failed for good; `again` when that happened before. */
type Outcome = { written: true; again: boolean } | { failed: Error; again: boolean };

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
 * A record at or past that position was written already (the commit that followed did not
 * happen: a crash, a rebalance, an aborted transaction): it is passed on, not written again. So
 * a record is written once, whatever the guarantee; the records passed on (`applied`) carry
 * exactly-once to Kafka under exactly-once.
 *
 * The records are written as they arrive, one after another in offset order, while the loop
 * goes on; the commit waits for those writes and passes on what they did. A transient failure
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
  return ({ name, context, children, onCommit, onClose, requestCommit, record, fail, restoreContext, log }) => {
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
     * Writes one record in its own transaction with the position after it. A record before the
     * position was handled already: its earlier outcome (written, or failed for good) is returned.
     */
    const writeOne = async (entry: Pending): Promise<Outcome> => {
      const client = await connect();
      let healthy = true;
      const where = [settings.sink, entry.raw.topic, entry.raw.partition];
      try {
        await client.query('BEGIN');
        // The row exists before it is locked, so two writers (a zombie and the new owner) queue on it.
        await client.query(`INSERT INTO ${tables.offsets} (sink, topic, partition, next_offset) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING`, where);
        const { rows } = await client.query<{ next_offset: string }>(`SELECT next_offset FROM ${tables.offsets} WHERE sink = $1 AND topic = $2 AND partition = $3 FOR UPDATE`, where);
        if (entry.raw.offset < Number(rows[0]!.next_offset)) {
          const earlier = await client.query<{ error: string }>(`SELECT error FROM ${tables.failed} WHERE sink = $1 AND topic = $2 AND partition = $3 AND "offset" = $4`, [...where, entry.raw.offset]);
          await client.query('ROLLBACK');
          return earlier.rows.length > 0 ? { failed: new Error(earlier.rows[0]!.error), again: true } : { written: true, again: true };
        }
        await settings.write(client, entry.key as K, entry.value as V);
        await client.query(`UPDATE ${tables.offsets} SET next_offset = $4 WHERE sink = $1 AND topic = $2 AND partition = $3`, [...where, entry.raw.offset + 1]);
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
           UPDATE ${tables.offsets} SET next_offset = GREATEST(next_offset, $4 + 1) WHERE sink = $1 AND topic = $2 AND partition = $3`,
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
    // while the loop goes on processing; the commit only waits for them to finish, then passes
    // on what they did (inside the commit, so under exactly-once with the offsets). After a
    // failure nothing more is written until the commit has taken the tasks back.
    let writing: Promise<void> = Promise.resolve();
    let taken: Array<{ entry: Pending; outcome?: Outcome }> = [];
    let stopped: unknown;

    onCommit(async () => {
      await writing;
      if (stopped !== undefined) throw stopped;
      const done = taken;
      taken = [];
      for (const { entry, outcome } of done) {
        restoreContext({ timestamp: entry.timestamp, headers: entry.headers });
        if (outcome === undefined) continue;
        if ('failed' in outcome) {
          const reason = describeCause(outcome.failed);
          log.warn({ topic: entry.raw.topic, partition: entry.raw.partition, offset: entry.raw.offset, err: reason, again: outcome.again }, 'write failed for good; rolled back');
          fail(entry.raw, outcome.failed);
          failed(entry.key, { value: entry.value, error: reason } satisfies FailedWrite<unknown>);
        } else {
          applied(entry.key, entry.value);
        }
      }
    });
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
      const slot: { entry: Pending; outcome?: Outcome } = { entry: { key, value, raw, timestamp: context.timestamp, headers: context.headers } };
      taken.push(slot);
      writing = writing.then(async () => {
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
