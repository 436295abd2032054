import { AsyncCallbackError, TopologyError } from '../errors.ts';
import type { ProcessorInit, ProcessorSupplier } from './processor.ts';

/** What a callback returning a promise is told at compile time. */
export type AsyncCallbackRefused =
  'This operator is synchronous: return the value itself, not a promise; for async work use mapValuesAsync, mapAsync, flatMapAsync, filterAsync or forEachAsync (docs/async.md)';

/**
 * A callback's return type `R`, refused when it is a promise: an operator whose callback returns
 * `Synchronous<R>` infers `R` as usual but makes an `async` callback a compile error.
 *
 * @example
 * ```ts
 * mapValues<V2>(mapper: (value: V) => Synchronous<V2>): Stream<K, V2>;
 * stream.mapValues(async (v) => v); // error: Promise<...> is not assignable to AsyncCallbackRefused
 * ```
 */
export type Synchronous<R> = R extends PromiseLike<unknown> ? AsyncCallbackRefused : R;

/**
 * Returns what a callback returned, or throws an {@link AsyncCallbackError} when it is a promise
 * (any object with a `then` method), after making sure the promise's failure cannot end the
 * process. One check per call, on the per-record path.
 */
export function synchronous<T>(result: T, operator: string, callback: string, instead?: string): T {
  if (isThenable(result)) refuse(result, operator, callback, instead);
  return result;
}

/** True for a promise, or anything else with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function refuse(promise: PromiseLike<unknown>, operator: string, callback: string, instead?: string): never {
  ignoreFailure(promise);
  throw new AsyncCallbackError(operator, callback, instead);
}

/** Nobody awaits the promise: its rejection must not become an unhandled one, which ends Node. */
function ignoreFailure(promise: PromiseLike<unknown>): void {
  try {
    promise.then(undefined, () => undefined);
  } catch {
    // A thenable whose `then` throws has nothing pending.
  }
}

/**
 * A custom processor whose per-record function must not return a promise: a call that does is
 * refused with an {@link AsyncCallbackError} (a processing error), and a factory that does not
 * return a function (an `async` factory) fails the task's start with a {@link TopologyError}.
 */
export function synchronousProcessor<KIn, VIn, KOut, VOut>(supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>): ProcessorSupplier {
  return (init) => {
    const processRecord: unknown = supplier(init as ProcessorInit<KOut, VOut>);
    if (typeof processRecord !== 'function') {
      const promise = isThenable(processRecord);
      if (promise) ignoreFailure(processRecord);
      throw new TopologyError(
        init.name,
        `the processor's factory must return its per-record function, (key, value) => void; it returned ${promise ? 'a promise (is it an async function?)' : String(processRecord)}. ` +
          'Factories and per-record functions are synchronous (see "Callbacks are synchronous" in docs/dsl.md).',
      );
    }
    const { name } = init;
    const run = processRecord as (key: unknown, value: unknown) => unknown;
    return (key, value) => void synchronous(run(key, value), name, 'per-record function');
  };
}
