import type { RecordHeader } from '../processor.ts';

/** How an async operator retries a failed call. */
export interface RetryOptions {
  /** Attempts in all, the first included (1: no retry). */
  attempts: number;
  /** The wait before the first retry; each next one doubles it, up to `maxBackoffMs`. Default 100. */
  backoffMs?: number;
  /** The longest wait between attempts. Default 30,000. */
  maxBackoffMs?: number;
}

/** How an async operator calls its function (see `AsyncOptions` for the rest). */
export interface AsyncCallOptions {
  /** Records whose calls run at once in one task. Default 32. The task's inputs pause while it holds this many records. */
  concurrency?: number;
  /**
   * `key` (default): records of one key never overtake each other (the next starts once the
   * previous finished), other keys go on; `partition`: calls run side by side, outputs leave in
   * input order.
   */
  ordering?: 'key' | 'partition';
  /** An attempt not finished after this long fails (its signal is aborted) and is retried if attempts remain. Default: none. */
  timeoutMs?: number;
  /** Retries of a failed (or timed-out) call: exponential back-off with jitter. Default: no retry. */
  retry?: RetryOptions;
}

/** What the async function gets besides the value and the key: the record's context, for this call. */
export interface AsyncCallContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly headers: RecordHeader[] | undefined;
  /** Aborted on time-out, when the task's partition moves away (a rebalance) and at shutdown. */
  readonly signal: AbortSignal;
  /**
   * `topic-partition-offset` of the input record (with `-n` for the n-th further record one
   * input gave this operator): the same across retries and when the record is processed again
   * after a crash, so an external call can be made idempotent with it.
   */
  readonly idempotencyKey: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
}

/** Settled options, as the runner uses them. */
export interface AsyncSettings {
  readonly concurrency: number;
  readonly ordering: 'key' | 'partition';
  readonly timeoutMs: number | undefined;
  readonly retry: Required<RetryOptions>;
}

/** Checks the options (a message naming what to change, or undefined) and settles the defaults. */
export function asyncSettings(options: AsyncCallOptions = {}): AsyncSettings | string {
  const positiveInteger = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value > 0;
  const positive = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0;
  const { concurrency = 32, ordering = 'key', timeoutMs, retry } = options;
  if (!positiveInteger(concurrency)) return `concurrency must be a positive integer, not ${String(concurrency)}`;
  if (ordering !== 'key' && ordering !== 'partition') return `ordering must be 'key' or 'partition', not ${String(ordering)}`;
  if (timeoutMs !== undefined && !positive(timeoutMs)) return `timeoutMs must be a positive number of milliseconds, not ${String(timeoutMs)}`;
  const settled = { attempts: retry?.attempts ?? 1, backoffMs: retry?.backoffMs ?? 100, maxBackoffMs: retry?.maxBackoffMs ?? 30_000 };
  if (!positiveInteger(settled.attempts)) return `retry.attempts (attempts in all, the first included) must be a positive integer, not ${String(settled.attempts)}`;
  if (!(settled.backoffMs >= 0) || !(settled.maxBackoffMs >= settled.backoffMs)) return `retry.backoffMs must be at least 0 and retry.maxBackoffMs at least backoffMs (got ${settled.backoffMs} and ${settled.maxBackoffMs})`;
  return { concurrency, ordering, timeoutMs, retry: settled };
}

/**
 * The wait before attempt `failed + 1`: `backoffMs` doubled per failure so far, at most
 * `maxBackoffMs`, then a random point in its upper half ("equal jitter"), so that records that
 * failed together do not all come back at once.
 */
export function backoffDelay(retry: Required<RetryOptions>, failed: number, random: () => number = Math.random): number {
  const ceiling = Math.min(retry.maxBackoffMs, retry.backoffMs * 2 ** Math.min(failed - 1, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}
