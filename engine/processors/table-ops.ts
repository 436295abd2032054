import type { Change, ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/**
 * Keeps a table's values that the predicate accepts, with Kafka Streams' semantics: a value it
 * rejects reads as deleted. Without old values (`sendOldValues` false: nothing downstream needs
 * them, as after `toStream()`), every update it drops goes on as a deletion, whether or not the
 * key was there before (Kafka Streams' `KTableFilter`); with them, a change is forwarded only
 * when there is something to add or delete, with the old value filtered too.
 */
export function tableFilter<K, V>(predicate: (key: K, value: V, context: RecordContext) => boolean, negate = false, sendOldValues = false): ProcessorSupplier {
  return ({ next, context, name }) => {
    const keep = (key: K, value: V | null) => (value !== null && synchronous(predicate(key, value, context), name, 'predicate') !== negate ? value : null);
    return (key, change) => {
      const { newValue, oldValue } = change as Change<V>;
      if (!sendOldValues) return next(key, { newValue: keep(key as K, newValue), oldValue: null });
      const filtered = { newValue: keep(key as K, newValue), oldValue: keep(key as K, oldValue) };
      if (filtered.newValue !== null || filtered.oldValue !== null) next(key, filtered);
    };
  };
}

/** Maps a table's values; deletions stay deletions. Old values are mapped only when sent on. */
export function tableMapValues<K, V, V2>(mapper: (value: V, key: K, context: RecordContext) => V2, sendOldValues = false): ProcessorSupplier {
  return ({ next, context, name }) => {
    const map = (key: K, value: V | null) => (value === null ? null : synchronous(mapper(value, key, context), name, 'mapper'));
    return (key, change) => {
      const { newValue, oldValue } = change as Change<V>;
      next(key, { newValue: map(key as K, newValue), oldValue: sendOldValues ? map(key as K, oldValue) : null });
    };
  };
}

/** A table's changes as a stream of its latest values (null: the key was deleted). */
export const toStream: ProcessorSupplier = ({ next }) => (key, change) => next(key, (change as Change<unknown>).newValue);
