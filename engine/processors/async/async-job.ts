// A record an async operator took, as its runner (async-runner.ts) tracks it and passes it on.
import type { ConsumedRecord, RecordHeader } from '../processor.ts';

/** One record taken by the operator, until what became of it has been passed on. */
export interface Job {
  key: unknown;
  value: unknown;
  /** The input record; once passed on, {@link LET_GO}. */
  raw: ConsumedRecord;
  readonly timestamp: number;
  headers: RecordHeader[] | undefined;
  readonly idempotencyKey: string;
  /** The key's identity under `ordering: 'key'`: the lane it waits in. */
  readonly lane: string | undefined;
  state: 'waiting' | 'running' | 'backing-off' | 'finished' | 'passed';
  attempts: number;
  attempt: Attempt | undefined;
  /** Cancels a pending retry. */
  cancelRetry: (() => void) | undefined;
  result: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
}

/** One call of the user's function for a job. */
export interface Attempt {
  /** Its own, with a time-out; else the runner's, shared by every call (aborted when the task closes). */
  readonly controller: AbortController;
  readonly startedAt: number;
  cancelTimeout: (() => void) | undefined;
  settled: boolean;
}

/** A finished job as the operator passes it on. */
export interface FinishedJob {
  readonly key: unknown;
  readonly value: unknown;
  readonly raw: ConsumedRecord;
  readonly timestamp: number;
  readonly headers: RecordHeader[] | undefined;
  /** The function's result, or the error the record failed with for good. */
  readonly result: { ok: true; value: unknown } | { ok: false; error: unknown };
}

/**
 * What a passed job holds instead of its record. A passed job can stay in `order` a while, behind
 * a slower call of another key; holding its record, key and value that long made them outlive
 * young-generation collections, to be copied and moved into the old generation (on the benchmark
 * of async calls, 9,505-9,511 records/s before letting go of them, 10,001-10,320 after).
 */
export const LET_GO: ConsumedRecord = Object.freeze({ topic: '', partition: -1, offset: -1, key: null, value: null, timestamp: -1, headers: undefined, size: 0 });
