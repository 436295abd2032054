import type { KeyValue } from './map.ts';
import type { ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/** Turns one record into zero or more, each with its own key. */
export function flatMap<K, V, K2, V2>(
  mapper: (key: K, value: V, context: RecordContext) => Iterable<KeyValue<K2, V2>>,
): ProcessorSupplier {
  return ({ next, context, name }) =>
    (key, value) => {
      for (const [newKey, newValue] of synchronous(mapper(key as K, value as V, context), name, 'mapper', 'flatMapAsync')) next(newKey, newValue);
    };
}
