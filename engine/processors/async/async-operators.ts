import { describeCause, InvalidRecordError, TopologyError } from '../../errors.ts';
import type { BackgroundProcessorInit } from '../background.ts';
import { headerValue, type Forward, type ProcessorSupplier } from '../processor.ts';
import type { AsyncSettings } from './async-options.ts';
import { AsyncRunner, type AsyncCall } from './async-runner.ts';

/** The async operators: what each does with its function's result. */
export type AsyncKind = 'mapValuesAsync' | 'mapAsync' | 'flatMapAsync' | 'filterAsync' | 'forEachAsync';

/** Forwards a result; returns a problem (an invalid result) instead of throwing. */
type Output = (next: Forward, key: unknown, value: unknown, result: unknown) => string | undefined;

const OUTPUTS: Record<AsyncKind, Output> = {
  mapValuesAsync: (next, key, _value, result) => void next(key, result),
  mapAsync: (next, _key, _value, result) => {
    if (!Array.isArray(result) || result.length !== 2) return `the mapper must resolve to a [key, value] pair, not ${describe(result)}`;
    next(result[0], result[1]);
    return undefined;
  },
  flatMapAsync: (next, _key, _value, result) => {
    if (result === null || typeof result !== 'object' || typeof (result as Iterable<unknown>)[Symbol.iterator] !== 'function') return `the mapper must resolve to an iterable of [key, value] pairs, not ${describe(result)}`;
    const pairs = [...(result as Iterable<unknown>)];
    const bad = pairs.find((pair) => !Array.isArray(pair) || pair.length !== 2);
    if (bad !== undefined) return `the mapper must resolve to an iterable of [key, value] pairs; one of them is ${describe(bad)}`;
    for (const [k, v] of pairs as Array<[unknown, unknown]>) next(k, v);
    return undefined;
  },
  filterAsync: (next, key, value, result) => {
    if (typeof result !== 'boolean') return `the predicate must resolve to true or false, not ${describe(result)}`;
    if (result) next(key, value);
    return undefined;
  },
  forEachAsync: () => undefined,
};

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value).slice(0, 40)}`;
}

/**
 * An async operator in a task: each record's call runs through an {@link AsyncRunner}; what it
 * resolves to is forwarded (as the operator's kind says) with the record's context restored, and
 * a record whose every attempt failed goes to the operator's error handling with its original
 * bytes. Commits hold the task's input at the first record not passed on (under exactly-once,
 * when a store or sink upstream saw the records, they first wait for every call); a draining
 * commit passes on what finished, and when the task closes aborts the calls still in flight.
 */
export function asyncOperator(kind: AsyncKind, call: AsyncCall, settings: AsyncSettings): ProcessorSupplier {
  const output = OUTPUTS[kind];
  // mapValuesAsync takes (value, key) as mapValues does; the others (key, value).
  const valueFirst = kind === 'mapValuesAsync';
  const callWith: AsyncCall = valueFirst ? call : (value, key, context) => call(key, value, context);
  return (plain) => {
    const init = plain as BackgroundProcessorInit;
    const { name, context, next, record, fail, onCommit, holdPosition, onClose, background, log } = init;
    const observe = background.stats.durations.observer({ operator: name });
    // Exactly-once over a replayable input: the commit covers the records passed on, which go in
    // input order so that they are exactly those before the position held; it waits for no call.
    const commitsWhileCalling = background.exactlyOnce && background.replayableInput;
    const runner = new AsyncRunner({
      operator: name,
      call: callWith,
      settings,
      inOrder: settings.ordering === 'partition' || commitsWhileCalling,
      timers: background.timers,
      stats: background.stats.of(name),
      observe,
      now: () => performance.now(),
      onRetry: (raw, headers, attempt, error, delayMs) =>
        log.debug({ topic: raw.topic, partition: raw.partition, offset: raw.offset, correlation_id: headerValue(headers, 'correlation_id'), attempt, delayMs: Math.round(delayMs), err: describeCause(error) }, 'async call failed; retrying after a back-off'),
      passOn: (job) =>
        background.resumeAs(job.raw, { timestamp: job.timestamp, headers: job.headers }, () => {
          if (!job.result.ok) return fail(job.raw, job.result.error);
          const problem = output(next, job.key, job.value, job.result.value);
          if (problem !== undefined) fail(job.raw, new InvalidRecordError(name, problem));
        }),
    });
    background.attach(runner);
    holdPosition(() => runner.position());
    onCommit(async ({ drain, closing }) => {
      // At-least-once, and exactly-once over a replayable input: the input is held at the first
      // record not passed on. Exactly-once otherwise: the records taken went through stores or
      // sinks on their way here, and their changes are in the transaction, which commits their
      // input; so each must have finished and gone on first.
      if (background.exactlyOnce && !commitsWhileCalling) await runner.finishAll();
      else if (drain && !closing) await runner.drain(background.drainWaitMs);
      runner.resume();
      if (closing) runner.close();
    });
    onClose(() => runner.close());
    return (key, value) => {
      const raw = record();
      // Outside an input record (a punctuation, a cache flush upstream) there is no position to hold.
      if (raw === undefined) throw new TopologyError(name, `${kind} takes records read from a topic, not records a punctuation or a store's cache forwards; put a repartition() before it.`);
      runner.take(key, value, raw, context.timestamp, context.headers);
    };
  };
}
