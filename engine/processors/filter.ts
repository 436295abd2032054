import type { ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

export type Predicate<K, V> = (key: K, value: V, context: RecordContext) => boolean;

/** Forwards the records `predicate` accepts (or, with `negate`, rejects). */
export function filter<K, V>(predicate: Predicate<K, V>, negate = false): ProcessorSupplier {
  return ({ next, context, name }) =>
    (key, value) => {
      if (synchronous(predicate(key as K, value as V, context), name, 'predicate', 'filterAsync') !== negate) next(key, value);
    };
}
