import type { ProcessorSupplier, RecordContext } from '../processors/processor.ts';
import type { Synchronous } from '../processors/synchronous.ts';
import { tableAggregate, tableRegroup, type GroupSelector } from '../processors/table-regroup.ts';
import { changeSerde } from '../serde/change-serde.ts';
import { Serdes, type Serde } from '../serde/serde.ts';
import type { GroupedTable, Table } from './api.ts';
import { aggregationStore } from './aggregation-store.ts';
import { requireFunction } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import { guardOperators } from './operator-guard.ts';
import type { KnownSerdes, Materialized, Named } from './stream-options.ts';

const GROUPED_TABLE_OPERATORS = ['count', 'reduce', 'aggregate'] as const;

/**
 * The {@link GroupedTable} the DSL hands out. Its aggregations read the rows' changes through
 * `<application.id>-<store>-repartition` (the first aggregation's store names it; later ones
 * share it), each change as the old value leaving its group and the new one joining its group.
 */
export class GraphGroupedTable<K, V> implements GroupedTable<K, V> {
  private readonly dsl: DslContext;
  /** The node that re-keys the table's changes. */
  private readonly node: string;
  private readonly serdes: KnownSerdes<K, V>;
  private repartitioned: string | undefined;

  /** @internal Grouped tables come from `Table.groupBy`. */
  constructor(dsl: DslContext, table: string, selector: GroupSelector<unknown, unknown, K, V>, options: Named & { key?: Serde<K>; value?: Serde<V> }) {
    this.dsl = dsl;
    this.serdes = { key: options.key, value: options.value };
    this.node = dsl.graph.nameFor('KTABLE-SELECT', options.name);
    requireFunction(this.node, 'selector', selector);
    dsl.graph.add({ kind: 'processor', name: this.node, operator: 'groupBy', parents: [table], supplier: tableRegroup(selector) });
    return guardOperators(this, 'grouped table', this.node, GROUPED_TABLE_OPERATORS);
  }

  count(materialized: Materialized<K, number>): Table<K, number> {
    return this.stateful('count', materialized, Serdes.json<number>(), [], (store) =>
      tableAggregate<K, V, number>(store, () => 0, (_, __, n) => n + 1, (_, __, n) => n - 1),
    );
  }

  reduce(adder: (aggregate: V, value: V, key: K) => Synchronous<V>, subtractor: (aggregate: V, value: V, key: K) => Synchronous<V>, materialized: Materialized<K, V>): Table<K, V> {
    const FIRST = Symbol('first');
    type Reduced = V | typeof FIRST;
    return this.stateful('reduce', materialized, this.serdes.value, [['adder', adder], ['subtractor', subtractor]], (store) =>
      tableAggregate<K, V, Reduced>(
        store,
        () => FIRST,
        (key, value, aggregate) => (aggregate === FIRST ? value : (adder(aggregate, value, key) as V)),
        (key, value, aggregate) => subtractor(aggregate as V, value, key) as V,
      ),
    );
  }

  aggregate<A>(
    initializer: () => Synchronous<A>,
    adder: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    subtractor: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    materialized: Materialized<K, A>,
  ): Table<K, A> {
    const callbacks: Array<[string, unknown]> = [['initializer', initializer], ['adder', adder], ['subtractor', subtractor]];
    return this.stateful('aggregate', materialized, undefined, callbacks, (store) =>
      tableAggregate<K, V, A>(store, initializer as () => A, adder as (key: K, value: V, aggregate: A, context: RecordContext) => A, subtractor as (key: K, value: V, aggregate: A, context: RecordContext) => A),
    );
  }

  /** The repartition node of this grouped table, made by the first aggregation (named after its store). */
  private inputFor(store: string): string {
    if (this.repartitioned !== undefined) return this.repartitioned;
    const name = this.dsl.graph.nameFor('KTABLE-REPARTITION', `${store}-repartition`);
    this.dsl.graph.add({
      kind: 'repartition',
      name,
      parents: [this.node],
      topic: store,
      keySerde: this.serdes.key as Serde<unknown> | undefined,
      valueSerde: changeSerde(this.serdes.value) as Serde<unknown>,
    });
    this.repartitioned = name;
    return name;
  }

  private stateful<A>(operator: string, materialized: Materialized<K, A>, defaultValueSerde: Serde<A> | undefined, callbacks: Array<[what: string, value: unknown]>, supplier: (store: string) => ProcessorSupplier): Table<K, A> {
    const { graph } = this.dsl;
    const name = graph.nameFor('KTABLE-AGGREGATE', undefined);
    for (const callback of callbacks) requireFunction(name, ...callback);
    const store = aggregationStore(graph, name, materialized, this.serdes, defaultValueSerde);
    materialized ??= {} as Materialized<K, A>;
    graph.add({ kind: 'processor', name, operator, parents: [this.inputFor(store)], supplier: supplier(store), stores: [store] });
    return this.dsl.table<K, A>(name, { key: materialized.key ?? this.serdes.key, value: materialized.value ?? defaultValueSerde }, store);
  }
}
