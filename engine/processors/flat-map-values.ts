import type { ProcessorSupplier, RecordContext } from './processor.ts';

/** Turns one value into zero or more, all under the record's key. */
export function flatMapValues<K, V, V2>(mapper: (value: V, key: K, context: RecordContext) => Iterable<V2>): ProcessorSupplier {
  return ({ next, context }) =>
    (key, value) => {
      for (const newValue of mapper(value as V, key as K, context)) next(key, newValue);
    };
}
