import { TopologyError } from '../errors.ts';
import type { RecordContext } from '../processors/processor.ts';
import { streamTableJoin } from '../processors/stream-table-join.ts';
import type { Synchronous } from '../processors/synchronous.ts';
import type { Serde } from '../serde/serde.ts';
import type { Stream, Table } from './api.ts';
import { requireFunction } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import type { JoinOptions, KnownSerdes } from './stream-options.ts';

/** The stream side of a join, as the stream hands it over. */
export interface JoinSide<K, V> {
  node: string;
  serdes: KnownSerdes<K, V>;
  keyChanged: boolean;
}

/**
 * Records a stream-table join (`join` or `leftJoin`) and returns its output stream. The join
 * reads the table's store, so the join and the table go in one sub-topology, whose source topics
 * must then have equal partition counts (checked at start). When the stream's keys were changed
 * upstream, its records first go through a repartition topic, sized like the table's topic.
 */
export function joinStreamTable<K, V, VT, R>(
  dsl: DslContext,
  stream: JoinSide<K, V>,
  table: Table<K, VT>,
  joiner: (value: V, tableValue: VT | null, key: K, context: RecordContext) => Synchronous<R>,
  left: boolean,
  options: JoinOptions<K, V>,
): Stream<K, R> {
  const { graph } = dsl;
  const operator = left ? 'leftJoin' : 'join';
  const name = graph.nameFor(left ? 'KSTREAM-LEFTJOIN' : 'KSTREAM-JOIN', options.name);
  requireFunction(name, 'joiner', joiner);
  // Checked for plain-JavaScript topology files, where anything may be passed.
  if (typeof (table as Partial<Table<K, VT>> | null)?.node !== 'string') {
    throw new TopologyError(name, 'the table to join with must be a table of this builder (builder.table(...) or an aggregation).');
  }
  const { store } = table;
  if (store === undefined) {
    throw new TopologyError(name, `${operator} reads the table's store, and this table has none (a filter or mapValues of a table keeps no store of its own): join with the table it came from and filter or map the joined records, or build the table with a store.`);
  }
  graph.lookedUp(store);
  let parent = stream.node;
  if (stream.keyChanged) {
    parent = graph.nameFor('KSTREAM-REPARTITION', `${name}-repartition`);
    graph.add({
      kind: 'repartition',
      name: parent,
      parents: [stream.node],
      // The topic is <application.id>-<join>-repartition.
      topic: name,
      keySerde: (options.key ?? stream.serdes.key) as Serde<unknown> | undefined,
      valueSerde: (options.value ?? stream.serdes.value) as Serde<unknown> | undefined,
    });
  }
  graph.add({
    kind: 'processor',
    name,
    operator,
    parents: [parent],
    supplier: streamTableJoin<K, V, VT, R>({ store, joiner: joiner as (value: V, tableValue: VT | null, key: K, context: RecordContext) => R, left }),
    onError: options.onError,
    stores: [store],
    copartitioned: true,
  });
  return dsl.stream<K, R>(name, { key: stream.serdes.key });
}
