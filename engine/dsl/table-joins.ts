import { TopologyError } from '../errors.ts';
import { passthrough } from '../processors/passthrough.ts';
import { materializeChanges } from '../processors/table-ops.ts';
import { tableTableJoin, type TableJoiner, type TableJoinKind } from '../processors/table-table-join.ts';
import { joinedRowSerde } from '../serde/join-serdes.ts';
import type { Serde } from '../serde/serde.ts';
import type { Table } from './api.ts';
import { requireFunction } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import { JOIN_READ_CACHE } from './graph.ts';
import type { KnownSerdes, Materialized, TableJoinOptions } from './stream-options.ts';

/** A table as a join takes it: its node and the serdes known for it. */
export interface TableSide<K, V> {
  node: string;
  serdes: KnownSerdes<K, V>;
}

/**
 * Records a table-table join and returns the joined table: a processor per table, sharing the
 * join's store of both tables' rows (so both tables go in one sub-topology, whose source topics
 * must have equal partition counts), and a merge of their changes; with `materialized`, a store
 * of the joined values after it.
 */
export function joinTables<K, VL, VR, R>(dsl: DslContext, left: TableSide<K, VL>, right: TableSide<K, VR> | undefined, joiner: TableJoiner<K, VL, VR, R>, kind: TableJoinKind, options: TableJoinOptions<K, VL, VR, R>): Table<K, R> {
  const { graph } = dsl;
  const base = graph.nameFor(kind === 'outerJoin' ? 'KTABLE-OUTERJOIN' : kind === 'leftJoin' ? 'KTABLE-LEFTJOIN' : 'KTABLE-JOIN', options.name);
  requireFunction(base, 'joiner', joiner);
  if (right === undefined) {
    throw new TopologyError(base, `${kind} of a table takes another table of this builder (builder.table(...), an aggregation or a join).`);
  }
  const keySerde = (options.key ?? left.serdes.key) as Serde<unknown> | undefined;
  const rows = graph.addStore(
    {
      name: `${base}-join-store`,
      keySerde,
      valueSerde: joinedRowSerde(options.value ?? left.serdes.value, options.otherValue ?? right.serdes.value) as Serde<unknown>,
      partitionedByKey: true,
      readCache: JOIN_READ_CACHE,
    },
    base,
  ).name;
  const suppliers = tableTableJoin<K, VL, VR, R>({ kind, joiner, rows });
  const sides: Array<[name: string, parent: string, which: 'left' | 'right']> = [
    [graph.nameFor('KTABLE-JOINTHIS', `${base}-this`), left.node, 'left'],
    [graph.nameFor('KTABLE-JOINOTHER', `${base}-other`), right.node, 'right'],
  ];
  for (const [name, parent, which] of sides) {
    graph.add({ kind: 'processor', name, operator: `${kind} of tables (${which} side)`, parents: [parent], supplier: which === 'left' ? suppliers.left : suppliers.right, onError: options.onError, stores: [rows], copartitioned: true });
  }
  const merged = graph.nameFor('KTABLE-MERGE', `${base}-merge`);
  graph.add({ kind: 'processor', name: merged, operator: 'merge', parents: sides.map(([name]) => name), supplier: passthrough });
  if (options.materialized === undefined) return dsl.table<K, R>(merged, { key: left.serdes.key });
  return materializeJoined<K, R>(dsl, base, merged, options.materialized, keySerde as Serde<K> | undefined);
}

/** Keeps a joined table's changes in a store of its own (queryable, joinable), after `parent`, and returns that table. */
export function materializeJoined<K, R>(dsl: DslContext, base: string, parent: string, materialized: Materialized<K, R>, keySerde: Serde<K> | undefined): Table<K, R> {
  const { graph } = dsl;
  const key = materialized.key ?? keySerde;
  const store = graph.addStore(
    { name: materialized.name, keySerde: key as Serde<unknown> | undefined, valueSerde: materialized.value as Serde<unknown> | undefined, caching: materialized.caching, partitionedByKey: true },
    base,
  ).name;
  const node = graph.nameFor('KTABLE-MATERIALIZE', `${base}-materialize`);
  graph.add({ kind: 'processor', name: node, operator: 'materialize', parents: [parent], supplier: materializeChanges(store), stores: [store] });
  return dsl.table<K, R>(node, { key, value: materialized.value }, store);
}
