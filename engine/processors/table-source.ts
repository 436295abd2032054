import type { ProcessorSupplier } from './processor.ts';
import { forwardFlushedChanges } from './table-ops.ts';

/**
 * Materializes a topic as a table: each record is the latest value of its key (null deletes).
 * Downstream gets a {@link Change} per key when the store's cache flushes.
 */
export function tableSource<K, V>(store: string): ProcessorSupplier {
  return (init) => {
    const { stores, context } = init;
    const table = stores.get<K, V>(store);
    forwardFlushedChanges<K, V>(init, store);
    return (key, value) => {
      if (key === null || key === undefined) return;
      const write = { timestamp: context.timestamp, headers: context.headers };
      if (value === null || value === undefined) table.delete(key as K, write);
      else table.put(key as K, value as V, write);
    };
  };
}
