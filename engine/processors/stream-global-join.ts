import { callJoiner, shown, type OtherSide } from './join-failure.ts';
import type { ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/** Names the global table's row a stream record joins: its key in the global store (null: none). */
export type GlobalKeySelector<K, V, KG> = (key: K, value: V, context: RecordContext) => KG | null | undefined;

export interface StreamGlobalJoin<K, V, KG, VG, R> {
  /** The global table's store, whole on this instance (not a task's). */
  store: string;
  keySelector: GlobalKeySelector<K, V, KG>;
  joiner: (value: V, globalValue: VG | null, key: K, context: RecordContext) => R;
  /** Left join: a record whose row is missing, or whose lookup key is null, is joined with null. */
  left: boolean;
}

/**
 * Kafka Streams' stream-global table join (`KStreamGlobalKTableJoin`, as in 4.1): each stream
 * record looks up the row its key selector names, as the global store holds it when the record is
 * processed; updates of the global table trigger nothing. The output keeps the record's key,
 * timestamp and headers. A record with a null value is dropped (counted); a null stream key is no
 * reason to drop (the selector may still name a row). An inner join drops (and counts) a record
 * whose lookup key is null and sends nothing for a missing row; a left join joins both with null.
 */
export function streamGlobalJoin<K, V, KG, VG, R>(settings: StreamGlobalJoin<K, V, KG, VG, R>): ProcessorSupplier {
  const { store, keySelector, joiner, left } = settings;
  return ({ stores, next, context, name, skip }) => {
    const table = stores.get<KG, VG>(store);
    const row: OtherSide = (about) => `the global table's row of key ${shown(about)}`;
    return (key, value) => {
      if (value === null || value === undefined) {
        skip('a join skips a record whose value is null');
        return;
      }
      const lookup = synchronous(keySelector(key as K, value as V, context), name, 'key selector');
      const noLookup = lookup === null || lookup === undefined;
      if (noLookup && !left) {
        skip('a join skips a record whose key selector gives a null key');
        return;
      }
      const other = noLookup ? undefined : table.get(lookup);
      if (other === undefined && !left) return;
      next(key, callJoiner(name, joiner, value as V, other ?? null, key as K, context, row, lookup));
    };
  };
}
