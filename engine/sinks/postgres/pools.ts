import pg from 'pg';

/** How Sluice's connections show in `pg_stat_activity` (unless the connection string names one). */
export const APPLICATION_NAME = 'sluice';

interface SharedPool {
  pool: pg.Pool;
  users: number;
}

/**
 * Connection pools shared by the tasks of a process, one per connection string: every task of
 * a PostgreSQL sink borrows the same pool, and the pool ends when the last task lets it go.
 */
const pools = new Map<string, SharedPool>();

/** A pool for `connectionString` (created on first use) and the function that gives it back. */
export function borrowPool(connectionString: string, size: number): { pool: pg.Pool; giveBack: () => Promise<void> } {
  let shared = pools.get(connectionString);
  if (shared === undefined) {
    const pool = new pg.Pool({ connectionString, max: size, connectionTimeoutMillis: 5_000, application_name: APPLICATION_NAME });
    // An idle client that loses its connection (the server restarted) emits here; without a
    // listener that would crash the process. The next query reconnects.
    pool.on('error', () => undefined);
    pools.set(connectionString, (shared = { pool, users: 0 }));
  }
  shared.users++;
  const borrowed = shared;
  let given = false;
  return {
    pool: borrowed.pool,
    giveBack: async () => {
      if (given) return;
      given = true;
      if (--borrowed.users > 0 || pools.get(connectionString) !== borrowed) return;
      pools.delete(connectionString);
      await borrowed.pool.end();
    },
  };
}

/**
 * Whether a PostgreSQL failure should pass: the server is unreachable, shutting down or
 * overloaded, or the transaction lost a race (serialization failure, deadlock). Anything else
 * (bad data, a constraint, an error in the statement) fails the same way on every attempt.
 */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') {
    // No SQLSTATE: the connection itself failed (refused, reset, ended, timed out).
    return err instanceof Error && /connect|terminat|timeout|ECONN|EPIPE|socket|Connection/i.test(err.message);
  }
  if (/^E[A-Z]+$/.test(code)) return true; // a Node.js socket error: ECONNREFUSED, ECONNRESET, ...
  // 08: connection exception; 53: insufficient resources; 57P0x: shutdown / cannot connect now;
  // 40001 / 40P01: serialization failure / deadlock; 55P03: lock not available; 58: system error.
  return /^(08|53|57P0|58)/.test(code) || code === '40001' || code === '40P01' || code === '55P03';
}

/**
 * Whether a failure to connect should pass. Every failure to connect does (the server is down,
 * starting, refusing connections to the database for now), except a wrong password or role
 * (28xxx) and a database that does not exist (3D000): those need a person.
 */
export function isTransientConnectFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && (code.startsWith('28') || code === '3D000'));
}
