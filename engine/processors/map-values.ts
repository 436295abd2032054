import type { ProcessorSupplier, RecordContext } from './processor.ts';

/** Replaces the value; the key (and so the partition) stays. */
export function mapValues<K, V, V2>(mapper: (value: V, key: K, context: RecordContext) => V2): ProcessorSupplier {
  return ({ next, context }) =>
    (key, value) => next(key, mapper(value as V, key as K, context));
}
