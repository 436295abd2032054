import type { RecordHeader } from '../kafka/records.ts';
import type { ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/**
 * Gives the records passed downstream new headers (computed from the record and its current
 * headers). Sibling branches keep the headers they had.
 */
export function withHeaders<K, V>(
  compute: (key: K, value: V, context: RecordContext) => RecordHeader[] | undefined,
): ProcessorSupplier {
  return ({ next, context, name }) =>
    (key, value) => {
      const headers = synchronous(compute(key as K, value as V, context), name, 'header function');
      const saved = context.headers;
      context.headers = headers;
      try {
        next(key, value);
      } finally {
        context.headers = saved;
      }
    };
}
