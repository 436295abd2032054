import type { ProcessorSupplier, RecordContext } from './processor.ts';

export type Predicate<K, V> = (key: K, value: V, context: RecordContext) => boolean;

/** Forwards the records `predicate` accepts (or, with `negate`, rejects). */
export function filter<K, V>(predicate: Predicate<K, V>, negate = false): ProcessorSupplier {
  return ({ next, context }) =>
    (key, value) => {
      if (predicate(key as K, value as V, context) !== negate) next(key, value);
    };
}
