import { callJoiner, shown, type OtherSide } from './join-failure.ts';
import type { ProcessorSupplier, RecordContext } from './processor.ts';

/** Joins a stream record's value with the table's value for its key (null when a left join finds none). */
export type ValueJoiner<K, V, VT, R> = (value: V, tableValue: VT, key: K, context: RecordContext) => R;

export interface StreamTableJoin<K, V, VT, R> {
  /** The table's store, in this task (the table's topic is co-partitioned with the stream). */
  store: string;
  joiner: ValueJoiner<K, V, VT | null, R>;
  /** Left join: a record the table has no value for (or with a null key) is joined with null. */
  left: boolean;
}

/**
 * Kafka Streams' stream-table join: each stream record is joined with the value the table holds
 * for its key when the record is processed; table updates trigger nothing. The output keeps the
 * record's key, timestamp and headers. A record with a null value is dropped (counted), as is one
 * with a null key in an inner join; a left join passes a null-keyed record on with the table side
 * null (Kafka Streams 3.7, KIP-962). An inner join sends nothing for a key the table lacks.
 */
export function streamTableJoin<K, V, VT, R>(settings: StreamTableJoin<K, V, VT, R>): ProcessorSupplier {
  const { store, joiner, left } = settings;
  return ({ stores, next, context, name, skip }) => {
    const table = stores.get<K, VT>(store);
    const row: OtherSide = (about) => `the table's row of key ${shown(about)}`;
    return (key, value) => {
      const noKey = key === null || key === undefined;
      if (value === null || value === undefined || (noKey && !left)) {
        skip(`a join skips a record whose ${noKey ? 'key' : 'value'} is null`);
        return;
      }
      const other = noKey ? undefined : table.get(key as K);
      if (other === undefined && !left) return;
      next(key, callJoiner(name, joiner, value as V, other ?? null, key as K, context, row));
    };
  };
}
