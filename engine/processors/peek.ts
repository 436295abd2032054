import type { ProcessorSupplier, RecordContext } from './processor.ts';

/** Calls `action` for each record (logging, metrics) and forwards it unchanged. */
export function peek<K, V>(action: (key: K, value: V, context: RecordContext) => void): ProcessorSupplier {
  return ({ next, context }) =>
    (key, value) => {
      action(key as K, value as V, context);
      next(key, value);
    };
}
