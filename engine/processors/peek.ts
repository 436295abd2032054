import type { ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/** Calls `action` for each record (logging, metrics) and forwards it unchanged. */
export function peek<K, V>(action: (key: K, value: V, context: RecordContext) => void): ProcessorSupplier {
  return ({ next, context, name }) =>
    (key, value) => {
      synchronous(action(key as K, value as V, context), name, 'action', 'forEachAsync');
      next(key, value);
    };
}
