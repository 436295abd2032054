import { aggregate, reduce, type Aggregator } from '../processors/aggregate.ts';
import type { ProcessorSupplier, RecordContext } from '../processors/processor.ts';
import type { Synchronous } from '../processors/synchronous.ts';
import { Serdes, type Serde } from '../serde/serde.ts';
import type { LogicalGraph } from './graph.ts';
import { guardOperators } from './operator-guard.ts';
import { Table, type Materialized } from './table.ts';

const GROUPED_OPERATORS = ['count', 'reduce', 'aggregate'] as const;

/**
 * A stream grouped by key, ready to aggregate (Kafka Streams' `KGroupedStream`). When the key
 * was changed upstream, records first go through `<application.id>-<store>-repartition` so that
 * every record of a key reaches the same task.
 */
export class GroupedStream<K, V> {
  readonly node: string;
  private readonly graph: LogicalGraph;
  private readonly serdes: { key?: Serde<K>; value?: Serde<V> };
  private readonly repartition: boolean;

  /** @internal */
  constructor(graph: LogicalGraph, node: string, serdes: { key?: Serde<K>; value?: Serde<V> }, repartition: boolean) {
    this.graph = graph;
    this.node = node;
    this.serdes = serdes;
    this.repartition = repartition;
    return guardOperators(this, 'grouped stream', node, GROUPED_OPERATORS);
  }

  /** The number of records per key (a JSON number in the store by default). */
  count(materialized: Materialized<K, number>): Table<K, number> {
    return this.stateful('KSTREAM-AGGREGATE', 'count', materialized, Serdes.json<number>(), (store) =>
      aggregate<K, V, number>(store, () => 0, (_, __, n) => n + 1),
    );
  }

  /** Combines each key's values, the first value being the start. */
  reduce<R extends V>(reducer: (aggregate: V, value: V, key: K) => Synchronous<R>, materialized: Materialized<K, V>): Table<K, V> {
    return this.stateful('KSTREAM-REDUCE', 'reduce', materialized, this.serdes.value, (store) => reduce<K, V>(store, reducer as (aggregate: V, value: V, key: K) => V));
  }

  /** Folds each key's records into an aggregate that starts as `initializer()`. */
  aggregate<A>(
    initializer: () => Synchronous<A>,
    aggregator: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    materialized: Materialized<K, A>,
  ): Table<K, A> {
    return this.stateful('KSTREAM-AGGREGATE', 'aggregate', materialized, undefined, (store) =>
      aggregate<K, V, A>(store, initializer as () => A, aggregator as Aggregator<K, V, A>),
    );
  }

  private stateful<A>(
    prefix: string,
    operator: string,
    materialized: Materialized<K, A>,
    defaultValueSerde: Serde<A> | undefined,
    supplier: (store: string) => ProcessorSupplier,
  ): Table<K, A> {
    const name = this.graph.nameFor(prefix, undefined);
    const store = this.graph.addStore(
      {
        name: materialized?.name,
        keySerde: (materialized.key ?? this.serdes.key) as Serde<unknown> | undefined,
        valueSerde: (materialized.value ?? defaultValueSerde) as Serde<unknown> | undefined,
        caching: materialized.caching,
        // Grouped by key (through a repartition topic when keys changed): the store key is the partition key.
        partitionedByKey: true,
      },
      name,
    ).name;
    let parent = this.node;
    if (this.repartition) {
      parent = this.graph.nameFor('KSTREAM-REPARTITION', `${store}-repartition`);
      this.graph.add({
        kind: 'repartition',
        name: parent,
        parents: [this.node],
        topic: store,
        keySerde: this.serdes.key as Serde<unknown> | undefined,
        valueSerde: this.serdes.value as Serde<unknown> | undefined,
      });
    }
    this.graph.add({ kind: 'processor', name, operator, parents: [parent], supplier: supplier(store), stores: [store] });
    return new Table<K, A>(this.graph, name, { key: materialized.key ?? this.serdes.key, value: materialized.value ?? defaultValueSerde }, store);
  }
}
