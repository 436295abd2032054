import { forwardFlushedChanges } from './table-ops.ts';
import type { ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

export type Aggregator<K, V, A> = (key: K, value: V, aggregate: A, context: RecordContext) => A;

/**
 * Folds each key's records into its aggregate in `store`. Records with a null key or value are
 * skipped (as Kafka Streams does). Downstream gets a {@link Change} per key when the store's
 * cache flushes (at commit, or at once with caching off): the latest aggregate and the last one
 * sent.
 */
export function aggregate<K, V, A>(store: string, initializer: () => A, aggregator: Aggregator<K, V, A>, callback = 'aggregator'): ProcessorSupplier {
  return (init) => {
    const { stores, context, name } = init;
    const aggregates = stores.get<K, A>(store);
    forwardFlushedChanges<K, A>(init, store);
    return (key, value) => {
      if (key === null || key === undefined || value === null || value === undefined) return;
      const current = aggregates.get(key as K);
      const start = current === undefined ? synchronous(initializer(), name, 'initializer') : current;
      const updated = synchronous(aggregator(key as K, value as V, start, context), name, callback);
      aggregates.put(key as K, updated, { timestamp: context.timestamp, headers: context.headers });
    };
  };
}

/** `reduce`: the first value of a key is its aggregate; later ones are combined with it. */
export function reduce<K, V>(store: string, reducer: (aggregate: V, value: V, key: K) => V): ProcessorSupplier {
  const FIRST = Symbol('first');
  return aggregate<K, V, V | typeof FIRST>(store, () => FIRST, (key, value, current) => (current === FIRST ? value : reducer(current, value, key)), 'reducer');
}
