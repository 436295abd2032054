import type { ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/** A key and a value, as `map` and `flatMap` return them. */
export type KeyValue<K, V> = readonly [key: K, value: V];

/** Replaces key and value. */
export function map<K, V, K2, V2>(mapper: (key: K, value: V, context: RecordContext) => KeyValue<K2, V2>): ProcessorSupplier {
  return ({ next, context, name }) =>
    (key, value) => {
      const [newKey, newValue] = synchronous(mapper(key as K, value as V, context), name, 'mapper', 'mapAsync');
      next(newKey, newValue);
    };
}
