import type { WriteContext } from '../../state/key-value-store.ts';
import type { AsyncStats } from '../observability/async-stats.ts';
import type { ConsumedRecord, ProcessorInit } from './processor.ts';

/**
 * Delayed calls, as operators that wait (an async call's time-out, a retry's back-off) make
 * them: the machine's timers in an application, the driver's clock under the TestDriver (see
 * DriverTimers), so that a test moves time on instead of waiting for it.
 */
export interface Timers {
  /** Calls `run` once `delayMs` have passed; returns a function that cancels it. */
  after(delayMs: number, run: () => void): () => void;
}

/** Work a node does outside the per-record path (an async operator's calls), as its task sees it. */
export interface BackgroundWork {
  /** Records taken and not yet passed on. */
  readonly inFlight: number;
  /** Records it would take now before it holds more than it can soon start (its room; may be negative). */
  readonly room: number;
  /** `inFlight` against what the node takes before its task's inputs pause: at 1 they pause, below 0.5 they resume. */
  readonly load: number;
  /** True when finished work waits to be passed on. */
  readonly ready: boolean;
  /** Passes on what finished; called between batches and at commits, when the record path is free. */
  resume(): void;
}

/** What the engine gives every task for background work. */
export interface BackgroundServices {
  readonly timers: Timers;
  readonly stats: AsyncStats;
  readonly exactlyOnce: boolean;
  /**
   * How long a draining commit that does not close the task waits for calls in flight: the
   * TestDriver's (every effect of a call visible when it returns). In an application every
   * draining commit closes its tasks, and calls in flight are aborted instead.
   */
  readonly drainWaitMs: number;
}

/** What a node working in the background is given besides {@link ProcessorInit}. */
export interface BackgroundInit extends BackgroundServices {
  /**
   * No record reaches the node having changed anything a commit writes (its upstream is a chain of
   * stateless operators): an exactly-once commit may then cover its input while records wait at it.
   */
  readonly replayableInput: boolean;
  /** Registers the node's work with its task. */
  attach(work: BackgroundWork): void;
  /**
   * Runs `run` (which forwards) as if `record` were being processed again: the record context and
   * the record in hand (for error handling downstream) are its, with `write`'s timestamp and headers.
   */
  resumeAs(record: ConsumedRecord, write: WriteContext, run: () => void): void;
}

/** The init an engine operator that works in the background gets. */
export type BackgroundProcessorInit<KOut = unknown, VOut = unknown> = ProcessorInit<KOut, VOut> & { readonly background: BackgroundInit };

