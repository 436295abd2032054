import { aggregate, reduce, type Aggregator } from '../processors/aggregate.ts';
import type { ProcessorSupplier, RecordContext } from '../processors/processor.ts';
import type { Synchronous } from '../processors/synchronous.ts';
import { Serdes, type Serde } from '../serde/serde.ts';
import type { GroupedStream, SessionWindowedStream, Table, TimeWindowedStream } from './api.ts';
import type { SessionWindows, SlidingWindows, TimeWindows } from '../processors/windows/specs.ts';
import { checkWindows, GraphWindowedStream } from './windowed-stream.ts';
import { aggregationStore } from './aggregation-store.ts';
import { requireFunction } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import { guardOperators } from './operator-guard.ts';
import type { KnownSerdes, Materialized } from './stream-options.ts';

const GROUPED_OPERATORS = ['count', 'reduce', 'aggregate', 'windowedBy'] as const;

/**
 * The {@link GroupedStream} the DSL hands out. When the key was changed upstream, records first go
 * through `<application.id>-<store>-repartition` so that every record of a key reaches the same task.
 */
export class GraphGroupedStream<K, V> implements GroupedStream<K, V> {
  readonly node: string;
  private readonly dsl: DslContext;
  private readonly serdes: KnownSerdes<K, V>;
  private readonly repartition: boolean;
  /** The repartition node the aggregations of this grouped stream share, once the first made it. */
  private repartitioned: string | undefined;

  /** @internal Grouped streams come from `groupByKey` and `groupBy`. */
  constructor(dsl: DslContext, node: string, serdes: KnownSerdes<K, V>, repartition: boolean) {
    this.dsl = dsl;
    this.node = node;
    this.serdes = serdes;
    this.repartition = repartition;
    return guardOperators(this, 'grouped stream', node, GROUPED_OPERATORS);
  }

  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedStream<K, V>;
  windowedBy(windows: SessionWindows): SessionWindowedStream<K, V>;
  windowedBy(windows: TimeWindows | SlidingWindows | SessionWindows): TimeWindowedStream<K, V> | SessionWindowedStream<K, V> {
    const spec = checkWindows(`${this.node} (windowedBy)`, windows);
    return new GraphWindowedStream<K, V>(this.dsl, { node: this.node, serdes: this.serdes, inputFor: (store) => this.inputFor(store) }, spec);
  }

  count(materialized: Materialized<K, number>): Table<K, number> {
    return this.stateful('KSTREAM-AGGREGATE', 'count', materialized, Serdes.json<number>(), [], (store) =>
      aggregate<K, V, number>(store, () => 0, (_, __, n) => n + 1),
    );
  }

  reduce<R extends V>(reducer: (aggregate: V, value: V, key: K) => Synchronous<R>, materialized: Materialized<K, V>): Table<K, V> {
    return this.stateful('KSTREAM-REDUCE', 'reduce', materialized, this.serdes.value, [['reducer', reducer]], (store) => reduce<K, V>(store, reducer as (aggregate: V, value: V, key: K) => V));
  }

  aggregate<A>(
    initializer: () => Synchronous<A>,
    aggregator: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    materialized: Materialized<K, A>,
  ): Table<K, A> {
    const callbacks: Array<[string, unknown]> = [['initializer', initializer], ['aggregator', aggregator]];
    return this.stateful('KSTREAM-AGGREGATE', 'aggregate', materialized, undefined, callbacks, (store) =>
      aggregate<K, V, A>(store, initializer as () => A, aggregator as Aggregator<K, V, A>),
    );
  }

  /**
   * The node an aggregation with store `store` reads: a repartition topic first when keys
   * changed upstream, one for all the aggregations of this grouped stream (named after the
   * first one's store), as Kafka Streams' optimized topologies share it.
   */
  private inputFor(store: string): string {
    if (!this.repartition) return this.node;
    if (this.repartitioned !== undefined) return this.repartitioned;
    const { graph } = this.dsl;
    const parent = graph.nameFor('KSTREAM-REPARTITION', `${store}-repartition`);
    graph.add({
      kind: 'repartition',
      name: parent,
      parents: [this.node],
      topic: store,
      keySerde: this.serdes.key as Serde<unknown> | undefined,
      valueSerde: this.serdes.value as Serde<unknown> | undefined,
    });
    this.repartitioned = parent;
    return parent;
  }

  private stateful<A>(
    prefix: string,
    operator: string,
    materialized: Materialized<K, A>,
    defaultValueSerde: Serde<A> | undefined,
    callbacks: Array<[what: string, value: unknown]>,
    supplier: (store: string) => ProcessorSupplier,
  ): Table<K, A> {
    const { graph } = this.dsl;
    const name = graph.nameFor(prefix, undefined);
    for (const callback of callbacks) requireFunction(name, ...callback);
    const store = aggregationStore(graph, name, materialized, this.serdes, defaultValueSerde);
    materialized ??= {} as Materialized<K, A>;
    graph.add({ kind: 'processor', name, operator, parents: [this.inputFor(store)], supplier: supplier(store), stores: [store] });
    return this.dsl.table<K, A>(name, { key: materialized.key ?? this.serdes.key, value: materialized.value ?? defaultValueSerde }, store);
  }
}
