import type { ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/** Replaces the value; the key (and so the partition) stays. */
export function mapValues<K, V, V2>(mapper: (value: V, key: K, context: RecordContext) => V2): ProcessorSupplier {
  return ({ next, context, name }) =>
    (key, value) => next(key, synchronous(mapper(value as V, key as K, context), name, 'mapper', 'mapValuesAsync'));
}
