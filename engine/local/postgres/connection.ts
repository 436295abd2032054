import pg from 'pg';
import { LocalPostgresError } from '../../errors.ts';

export const HOST = '127.0.0.1';
export const SUPERUSER = 'postgres';
/** The database the local cluster makes for Sluice. */
export const DATABASE = 'sluice';

/** The URL of the database `sluice` on the local cluster. */
export function databaseUrl(port: number): string {
  return `postgres://${SUPERUSER}@${HOST}:${port}/${DATABASE}`;
}

function adminUrl(port: number): string {
  return `postgres://${SUPERUSER}@${HOST}:${port}/postgres`;
}

/** Whether the server on `port` accepts a connection and a query within `timeoutMs`. */
export async function answers(port: number, timeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl(port), connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates the database `sluice` unless it exists. */
export async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl(port), connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${DATABASE}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04' && err.code !== '23505') throw err; // Made by another process meanwhile.
      });
    }
  } catch (err) {
    throw new LocalPostgresError(`Could not create the database '${DATABASE}' on ${HOST}:${port}: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => {});
  }
}
