import type { Change, ProcessorInit, ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/**
 * Operators on a table's changes. A value the predicate rejects reads as deleted, so a key that
 * stops matching is forwarded as a deletion. A change is forwarded only when there is something
 * to add or delete: a dropped update of a key that was not in the filtered table goes nowhere.
 * This is Kafka Streams' `KTableFilter` over a materialized table (its filter then gets old
 * values), and every Sluice table is materialized: a table over a topic, or an aggregation.
 */
export function tableFilter<K, V>(predicate: (key: K, value: V, context: RecordContext) => boolean, negate = false): ProcessorSupplier {
  return ({ next, context, name }) => {
    const keep = (key: K, value: V | null) => (value !== null && synchronous(predicate(key, value, context), name, 'predicate') !== negate ? value : null);
    return (key, change) => {
      const { newValue, oldValue } = change as Change<V>;
      const filtered = { newValue: keep(key as K, newValue), oldValue: keep(key as K, oldValue) };
      if (filtered.newValue !== null || filtered.oldValue !== null) next(key, filtered);
    };
  };
}

/** Maps a table's values; deletions stay deletions. */
export function tableMapValues<K, V, V2>(mapper: (value: V, key: K, context: RecordContext) => V2): ProcessorSupplier {
  return ({ next, context, name }) => {
    const map = (key: K, value: V | null) => (value === null ? null : synchronous(mapper(value, key, context), name, 'mapper'));
    return (key, change) => {
      const { newValue, oldValue } = change as Change<V>;
      next(key, { newValue: map(key as K, newValue), oldValue: map(key as K, oldValue) });
    };
  };
}

/** A table's changes as a stream of its latest values (null: the key was deleted). */
export const toStream: ProcessorSupplier = ({ next }) => (key, change) => next(key, (change as Change<unknown>).newValue);

/**
 * Keeps a table's changes in a store of its own (a joined table given a name), so it can be
 * queried and joined: each new value is written (a null deletes), and downstream gets a
 * {@link Change} per key when the store's cache flushes, its old value from the store.
 */
export function materializeChanges<K, V>(store: string): ProcessorSupplier {
  return (init) => {
    const { stores, context } = init;
    const table = stores.get<K, V>(store);
    forwardFlushedChanges<K, V>(init, store);
    return (key, change) => {
      const { newValue } = change as Change<V>;
      const write = { timestamp: context.timestamp, headers: context.headers };
      if (newValue === null || newValue === undefined) table.delete(key as K, write);
      else table.put(key as K, newValue, write);
    };
  };
}

/** Sends downstream, for each key a flush of `store`'s cache passes down, its {@link Change}, with the context of its last write. */
export function forwardFlushedChanges<K, V>({ stores, next, restoreContext }: ProcessorInit, store: string): void {
  stores.cache<K, V>(store).setFlushListener((key, newValue, oldValue, write) => {
    restoreContext(write);
    next(key, { newValue, oldValue } satisfies Change<V>);
  });
}
