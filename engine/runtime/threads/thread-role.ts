import { ConfigError } from '../../errors.ts';

/**
 * How a process learns it is a stream thread of an instance (see stream-threads.ts): which one
 * of how many, and where the instance's front server answers, if it serves queries.
 */
export const STREAM_THREAD_ENV = 'SLUICE_STREAM_THREAD';
export const STREAM_THREAD_FRONT_ENV = 'SLUICE_STREAM_THREAD_FRONT';

export interface StreamThreadRole {
  /** From 0. */
  index: number;
  count: number;
  /** The front server's URL, when the instance serves queries. */
  front?: string;
}

/** This process's role as a stream thread, or undefined when it is an instance of its own. */
export function streamThreadRole(env: NodeJS.ProcessEnv = process.env): StreamThreadRole | undefined {
  const value = env[STREAM_THREAD_ENV];
  if (value === undefined || value === '') return undefined;
  const match = /^(\d{1,3})\/(\d{1,3})$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || index >= count) throw new ConfigError(`${STREAM_THREAD_ENV} must be "<index>/<count>" with index below count, not "${value.slice(0, 40)}".`);
  const front = env[STREAM_THREAD_FRONT_ENV];
  return { index, count, ...(front ? { front } : {}) };
}

/** The path under which the front server reaches stream thread `index`. */
export function threadPath(index: number): string {
  return `/threads/${index}`;
}

/** The most stream threads one instance may run. */
export const MAX_STREAM_THREADS = 64;

/** Refuses a thread count that is not a whole number from 1 to {@link MAX_STREAM_THREADS}. */
export function checkStreamThreads(threads: number | undefined): void {
  if (threads === undefined) return;
  if (!Number.isSafeInteger(threads) || threads < 1 || threads > MAX_STREAM_THREADS) {
    throw new ConfigError(`numStreamThreads must be a whole number from 1 to ${MAX_STREAM_THREADS}, not ${threads}.`);
  }
}
