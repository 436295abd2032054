import type { ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/** Turns one value into zero or more, all under the record's key. */
export function flatMapValues<K, V, V2>(mapper: (value: V, key: K, context: RecordContext) => Iterable<V2>): ProcessorSupplier {
  return ({ next, context, name }) =>
    (key, value) => {
      for (const newValue of synchronous(mapper(value as V, key as K, context), name, 'mapper', 'flatMapAsync')) next(key, newValue);
    };
}
