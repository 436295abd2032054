import type { ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/** Replaces the key, keeping the value. Downstream grouping or sinks place records by the new key. */
export function selectKey<K, V, K2>(selector: (key: K, value: V, context: RecordContext) => K2): ProcessorSupplier {
  return ({ next, context, name }) =>
    (key, value) => next(synchronous(selector(key as K, value as V, context), name, 'key selector'), value);
}
