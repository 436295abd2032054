import { TopologyError } from '../errors.ts';
import type { RecordContext } from '../processors/processor.ts';
import { streamGlobalJoin, type GlobalKeySelector } from '../processors/stream-global-join.ts';
import type { Synchronous } from '../processors/synchronous.ts';
import type { GlobalTable, Stream } from './api.ts';
import { requireFunction } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import { isGlobalTableOf } from './global-table.ts';
import type { JoinSide } from './joins.ts';
import type { OperatorOptions } from './stream-options.ts';

/** What a stream-global table join makes of a record and the row it found (null: none, in a left join). */
export type GlobalJoiner<K, V, VG, R> = (value: V, globalValue: VG | null, key: K, context: RecordContext) => Synchronous<R>;

/**
 * Records a stream-global table join (`join` or `leftJoin`) and returns its output stream. The
 * global store is read where the stream record is, on any instance, so nothing is co-partitioned:
 * the join stays in the stream's sub-topology, is not grouped with any store, and needs no
 * repartition even when the stream's keys were changed upstream (they stay as changed downstream).
 */
export function joinGlobalTable<K, V, KG, VG, R>(
  dsl: DslContext,
  stream: JoinSide<K, V>,
  table: GlobalTable<KG, VG>,
  keySelector: (key: K, value: V, context: RecordContext) => Synchronous<KG | null | undefined>,
  joiner: GlobalJoiner<K, V, VG, R>,
  left: boolean,
  options: OperatorOptions,
): Stream<K, R> {
  const { graph } = dsl;
  const name = graph.nameFor(left ? 'KSTREAM-LEFTJOIN' : 'KSTREAM-JOIN', options.name);
  requireFunction(name, 'key selector', keySelector);
  requireFunction(name, 'joiner', joiner);
  if (!isGlobalTableOf(graph, table)) {
    throw new TopologyError(name, 'the global table to join with must come from builder.globalTable(...) of the same builder as the stream.');
  }
  graph.add({
    kind: 'processor',
    name,
    operator: left ? 'leftJoin' : 'join',
    parents: [stream.node],
    supplier: streamGlobalJoin<K, V, KG, VG, R>({
      store: table.store,
      keySelector: keySelector as GlobalKeySelector<K, V, KG>,
      joiner: joiner as (value: V, globalValue: VG | null, key: K, context: RecordContext) => R,
      left,
    }),
    onError: options.onError,
    globalStores: [table.store],
  });
  return dsl.stream<K, R>(name, { key: stream.serdes.key }, stream.keyChanged);
}
