import { AsyncCallFailedError, AsyncTimeoutError } from '../../errors.ts';
import type { AsyncOperatorStats } from '../../observability/async-stats.ts';
import type { Timers } from '../background.ts';
import { keyIdentity } from '../held-records.ts';
import type { ConsumedRecord, RecordHeader, TopicOffset } from '../processor.ts';
import { LET_GO, type Attempt, type FinishedJob, type Job } from './async-job.ts';
import { backoffDelay, type AsyncCallContext, type AsyncSettings } from './async-options.ts';
import { SharedSignals } from './shared-signals.ts';

/** The user's function, as the runner calls it. */
export type AsyncCall = (value: unknown, key: unknown, context: AsyncCallContext) => unknown;
export type { FinishedJob };

/** What the runner needs from the task and the operator around it. */
export interface AsyncRunnerParts {
  readonly operator: string;
  readonly call: AsyncCall;
  readonly settings: AsyncSettings;
  /** Outputs leave in input order (ordering `partition`). */
  readonly inOrder: boolean;
  readonly timers: Timers;
  readonly stats: AsyncOperatorStats;
  /** Observes a call's duration, in seconds. */
  readonly observe: (seconds: number) => void;
  /** Monotonic milliseconds, for durations. */
  readonly now: () => number;
  /** Told of each failed attempt that will be retried, after `delayMs`. */
  readonly onRetry: (raw: ConsumedRecord, headers: RecordHeader[] | undefined, attempt: number, error: unknown, delayMs: number) => void;
  /** Passes a finished job on: forwards its result, or hands its failure to the error handling. Runs on the task (see `resume`). */
  readonly passOn: (job: FinishedJob) => void;
}

/** Why calls in flight were stopped: the task is closing (a rebalance, a shutdown). */
class Closing extends Error {
  constructor() {
    super('the task is closing (its partition moves away, or the application stops)');
    this.name = 'AbortError';
  }
}

/**
 * The calls of one async operator in one task. Records are taken on the per-record path and
 * their calls started at once while fewer than `concurrency` run; with `ordering: 'key'` a
 * record waits until the previous record of its key has finished. A call that fails or times
 * out is made again after an exponential back-off with jitter while attempts remain. Finished
 * records wait until the task's loop calls `resume` (between batches, or at a commit) to be
 * passed on: as they finish, or, `inOrder`, once every record taken before them has finished.
 * `position` holds the task's committable input at the first record not passed on, so a record
 * is committed only once its outputs are sent. Under exactly-once, either the records pass on in
 * input order (the operator's input is replayable: the transaction then holds the outputs of
 * exactly the records before the position), or each commit first waits for every record taken
 * (`finishAll`), so that the transaction holds the outputs of all the records whose input it
 * commits.
 */
export class AsyncRunner {
  private readonly parts: AsyncRunnerParts;
  /** Every job taken and not passed on, in the order taken, from `head`. */
  private order: Job[] = [];
  private head = 0;
  /** Jobs that may start now (the first of their key), oldest first, from `next`. */
  private runnable: Job[] = [];
  private next = 0;
  /** Per key, the jobs of that key not finished, the first one running or backing off. */
  private readonly lanes = new Map<string, Job[]>();
  /** Finished jobs not passed on, in the order they finished (when not `inOrder`). */
  private finished: Job[] = [];
  private running = 0;
  private taken = 0;
  private closed = false;
  /** Set once passing a job on threw (the `fail` handling): the task is stopping. */
  private stopped = false;
  /** Idempotency keys: the last input record taken and how many records it gave this operator. */
  private lastInput: ConsumedRecord | undefined;
  private fromLastInput = 0;
  /** The signals of calls without a time-out. */
  private readonly shared = new SharedSignals();
  /** Resolved when no call runs (a draining commit waits for it). */
  private idle: (() => void) | undefined;
  /** Records taken and not finished (waiting, running or backing off). */
  private unfinished = 0;
  /** Resolved when every record taken has finished (an exactly-once commit waits for it). */
  private allFinished: (() => void) | undefined;

  constructor(parts: AsyncRunnerParts) {
    this.parts = parts;
  }

  get inFlight(): number {
    return this.taken;
  }

  /**
   * Room up to twice the concurrency in records not finished (what runs, and as many waiting to
   * start), and three times in all. Records that finished but wait to go on in input order behind
   * a slower call (ordering `partition`, or exactly-once) take no call's place: counting them
   * left too few waiting to start, and the calls in flight fell (178 of 256 on average, against
   * 202, on the benchmark of async calls under exactly-once).
   */
  get room(): number {
    const concurrency = this.parts.settings.concurrency;
    return Math.min(2 * concurrency - this.unfinished, 3 * concurrency - this.taken);
  }

  /** 1 at four times the concurrency: the task's inputs pause there (the loop keeps within `room` before). */
  get load(): number {
    return this.taken / (4 * this.parts.settings.concurrency);
  }

  get ready(): boolean {
    if (this.parts.inOrder) return this.wholeInputEnd() > this.head;
    return this.finished.length > 0;
  }

  /** Takes a record (on the per-record path) and starts its call if it may start now. */
  take(key: unknown, value: unknown, raw: ConsumedRecord, timestamp: number, headers: RecordHeader[] | undefined): void {
    // Stable across retries and reprocessing: the input record, and which of its records this is
    // (the records one input gives all come with that input's record).
    this.fromLastInput = raw === this.lastInput ? this.fromLastInput + 1 : 0;
    this.lastInput = raw;
    const input = `${raw.topic}-${raw.partition}-${raw.offset}`;
    const idempotencyKey = this.fromLastInput === 0 ? input : `${input}-${this.fromLastInput}`;
    const lane = this.parts.settings.ordering === 'key' ? keyIdentity(key) : undefined;
    const job: Job = { key, value, raw, timestamp, headers, idempotencyKey, lane, state: 'waiting', attempts: 0, attempt: undefined, cancelRetry: undefined, result: undefined };
    this.order.push(job);
    this.taken++;
    this.unfinished++;
    this.parts.stats.inFlight++;
    if (lane !== undefined) {
      const queue = this.lanes.get(lane);
      if (queue !== undefined) {
        queue.push(job);
        return;
      }
      this.lanes.set(lane, [job]);
    }
    this.runnable.push(job);
    this.pump();
  }

  /**
   * Passes on the finished jobs that may go now. Runs on the task; throws what `passOn` throws
   * (the `fail` handling), and then passes nothing more on: the job that failed and those after
   * it stay unpassed, so the task's last commit stops before them.
   */
  resume(): void {
    if (this.stopped) return;
    try {
      if (this.parts.inOrder) {
        // Whole input records at a time: the records one input gave (a flatMap upstream) go on
        // together, so that no commit holds some of its outputs while its position says it is
        // still to be processed (exactly-once would write those outputs again).
        const order = this.order;
        for (let end = this.wholeInputEnd(); end > this.head; end = this.wholeInputEnd()) {
          for (; this.head < end; this.head++) this.pass(order[this.head]!);
        }
      } else {
        const finished = this.finished;
        let i = 0;
        try {
          for (; i < finished.length; i++) this.pass(finished[i]!);
        } finally {
          this.finished = finished.slice(i);
        }
        while (this.head < this.order.length && this.order[this.head]!.state === 'passed') this.head++;
      }
    } catch (err) {
      this.stopped = true;
      throw err;
    }
    // Jobs passed on stay in `order` behind an unfinished one (a slow call, ordering `key`):
    // dropped once they outnumber the rest, so a stalled call does not make it grow.
    if (this.head > 1_024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    } else if (this.order.length - this.head > 2 * this.taken + 1_024) {
      this.order = this.order.slice(this.head).filter((job) => job.state !== 'passed');
      this.head = 0;
    }
  }

  /** In order from `head`: the end of the run of jobs of its input record, if every one of them finished; else `head`. */
  private wholeInputEnd(): number {
    const order = this.order;
    const raw = order[this.head]?.raw;
    let end = this.head;
    while (end < order.length && order[end]!.raw === raw) {
      if (order[end]!.state !== 'finished') return this.head;
      end++;
    }
    return end;
  }

  /**
   * The first record of each input topic not passed on: the task commits no further, so after a
   * crash those records are taken again (their calls made again).
   */
  position(): TopicOffset[] | undefined {
    if (this.head === this.order.length) return undefined;
    const held: TopicOffset[] = [];
    for (let i = this.head; i < this.order.length; i++) {
      const job = this.order[i]!;
      if (job.state === 'passed' || held.some((h) => h.topic === job.raw.topic)) continue;
      held.push({ topic: job.raw.topic, offset: job.raw.offset });
    }
    return held;
  }

  /** Waits up to `waitMs` for the calls in flight to finish (a draining commit that does not close the task: the TestDriver's). */
  async drain(waitMs: number): Promise<void> {
    if (this.running === 0 || waitMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.idle = resolve;
      timer = setTimeout(resolve, waitMs);
    });
    clearTimeout(timer);
    this.idle = undefined;
  }

  /**
   * Waits until every record taken has finished, retries included (an exactly-once commit: the
   * transaction then holds the outputs of every record whose input it commits, and of no other).
   */
  async finishAll(): Promise<void> {
    while (this.unfinished > 0 && !this.closed) {
      await new Promise<void>((resolve) => (this.allFinished = resolve));
      this.allFinished = undefined;
    }
  }

  /** Aborts every call in flight and cancels every retry; nothing more is started or passed on. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const reason = new Closing();
    for (let i = this.head; i < this.order.length; i++) {
      const job = this.order[i]!;
      job.cancelRetry?.();
      const attempt = job.attempt;
      if (attempt !== undefined && !attempt.settled) {
        attempt.settled = true;
        attempt.cancelTimeout?.();
        attempt.controller.abort(reason);
      }
    }
    this.shared.abort(reason);
    this.parts.stats.inFlight -= this.taken;
    this.taken = 0;
    this.running = 0;
    this.idle?.();
    this.allFinished?.();
  }

  private pass(job: Job): void {
    const result = job.result!;
    this.parts.passOn({ key: job.key, value: job.value, raw: job.raw, timestamp: job.timestamp, headers: job.headers, result });
    job.state = 'passed';
    job.result = undefined;
    job.key = undefined;
    job.value = undefined;
    job.headers = undefined;
    job.raw = LET_GO;
    this.taken--;
    this.parts.stats.inFlight--;
  }

  /** Starts waiting jobs while slots are free. */
  private pump(): void {
    const concurrency = this.parts.settings.concurrency;
    while (this.running < concurrency && this.next < this.runnable.length && !this.closed) this.start(this.runnable[this.next++]!);
    if (this.next === this.runnable.length) {
      this.runnable = [];
      this.next = 0;
    }
  }

  private start(job: Job): void {
    const { parts } = this;
    const { settings } = parts;
    job.state = 'running';
    job.attempts++;
    this.running++;
    parts.stats.calls++;
    // A signal of its own only when a time-out may abort this call alone.
    const controller = settings.timeoutMs === undefined ? this.shared.next() : new AbortController();
    const attempt: Attempt = { controller, startedAt: parts.now(), cancelTimeout: undefined, settled: false };
    job.attempt = attempt;
    const context: AsyncCallContext = {
      topic: job.raw.topic,
      partition: job.raw.partition,
      offset: job.raw.offset,
      timestamp: job.timestamp,
      headers: job.headers,
      signal: attempt.controller.signal,
      idempotencyKey: job.idempotencyKey,
      attempt: job.attempts,
    };
    if (settings.timeoutMs !== undefined) {
      const timeoutMs = settings.timeoutMs;
      attempt.cancelTimeout = parts.timers.after(timeoutMs, () => {
        parts.stats.timeouts++;
        const error = new AsyncTimeoutError(parts.operator, timeoutMs);
        this.settle(job, attempt, { ok: false, error });
        attempt.controller.abort(error);
      });
    }
    let promise: PromiseLike<unknown>;
    try {
      promise = Promise.resolve(parts.call(job.value, job.key, context));
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (value) => this.settle(job, attempt, { ok: true, value }),
      (error: unknown) => this.settle(job, attempt, { ok: false, error }),
    );
  }

  /** An attempt ended (its promise settled, or it timed out): finished, or retried after a back-off. */
  private settle(job: Job, attempt: Attempt, result: { ok: true; value: unknown } | { ok: false; error: unknown }): void {
    // A late answer after a time-out, or after the task closed: ignored.
    if (attempt.settled || job.attempt !== attempt || this.closed) return;
    attempt.settled = true;
    attempt.cancelTimeout?.();
    job.attempt = undefined;
    this.running--;
    const { parts } = this;
    parts.observe((parts.now() - attempt.startedAt) / 1000);
    const retry = parts.settings.retry;
    if (!result.ok && job.attempts < retry.attempts) {
      parts.stats.retries++;
      job.state = 'backing-off';
      const delayMs = backoffDelay(retry, job.attempts);
      parts.onRetry(job.raw, job.headers, job.attempts, result.error, delayMs);
      job.cancelRetry = parts.timers.after(delayMs, () => {
        job.cancelRetry = undefined;
        if (this.closed) return;
        job.state = 'waiting';
        // Older than anything waiting for a slot: it goes first.
        if (this.next > 0) this.runnable[--this.next] = job;
        else this.runnable.unshift(job);
        this.pump();
      });
    } else {
      if (!result.ok) {
        parts.stats.failures++;
        result = { ok: false, error: new AsyncCallFailedError(parts.operator, job.attempts, result.error) };
      }
      job.state = 'finished';
      job.result = result;
      if (--this.unfinished === 0) this.allFinished?.();
      if (!parts.inOrder) this.finished.push(job);
      this.nextOfKey(job);
    }
    this.pump();
    if (this.running === 0) this.idle?.();
  }

  /** The job finished: the next record of its key may start. */
  private nextOfKey(job: Job): void {
    if (job.lane === undefined) return;
    const queue = this.lanes.get(job.lane)!;
    queue.shift();
    if (queue.length === 0) this.lanes.delete(job.lane);
    else this.runnable.push(queue[0]!);
  }
}

