import type { ProcessorSupplier, RecordContext } from './processor.ts';

/** Replaces the key, keeping the value. Downstream grouping or sinks place records by the new key. */
export function selectKey<K, V, K2>(selector: (key: K, value: V, context: RecordContext) => K2): ProcessorSupplier {
  return ({ next, context }) =>
    (key, value) => next(selector(key as K, value as V, context), value);
}
