import type { RecordHeader } from '../kafka/records.ts';
import type { ProcessorSupplier, RecordContext } from './processor.ts';

/**
 * Gives the records passed downstream new headers (computed from the record and its current
 * headers). Sibling branches keep the headers they had.
 */
export function withHeaders<K, V>(
  compute: (key: K, value: V, context: RecordContext) => RecordHeader[] | undefined,
): ProcessorSupplier {
  return ({ next, context }) =>
    (key, value) => {
      const saved = context.headers;
      context.headers = compute(key as K, value as V, context);
      try {
        next(key, value);
      } finally {
        context.headers = saved;
      }
    };
}
