import { tableSource } from '../processors/table-source.ts';
import type { Serde } from '../serde/serde.ts';
import type { GlobalTable, Stream, Table } from './api.ts';
import type { DslContext } from './dsl-context.ts';
import { type ErrorHandling, LogicalGraph } from './graph.ts';
import { addGlobalTable } from './global-table.ts';
import { GraphGroupedStream } from './grouped-stream.ts';
import { GraphSplitter } from './splitter.ts';
import { GraphStream } from './stream.ts';
import type { GlobalTableOptions, Materialized, Named } from './stream-options.ts';
import { GraphTable } from './table.ts';
import { storeSpec, Topology, type SourceOptions, type StoreOptions } from './topology.ts';

/**
 * The entry point of the DSL, as Kafka Streams' `StreamsBuilder`: streams from topics, then
 * operators on them. `build()` returns the {@link Topology} it recorded.
 *
 * @example
 * ```ts
 * const builder = new StreamsBuilder();
 * builder.stream('in', { key: Serdes.string(), value: Serdes.string() })
 *   .mapValues((v) => v.toUpperCase())
 *   .to('out');
 * const topology = builder.build();
 * ```
 */
export class StreamsBuilder {
  readonly graph = new LogicalGraph();
  private readonly dsl = dslOver(this.graph);

  /** A stream of the records of `topics` (several topics: one stream, each partition's order kept). */
  stream<K = unknown, V = unknown>(topics: string | string[], options: SourceOptions<K, V> & Named = {}): Stream<K, V> {
    const name = this.graph.nameFor('KSTREAM-SOURCE', options.name);
    new Topology(this.graph).addSource(name, topics, options);
    return this.dsl.stream<K, V>(name, { key: options.key, value: options.value });
  }

  /**
   * A table over a topic (compacted, keyed): the latest value per key, kept in the store
   * `name`. The topic itself is the store's changelog; no other topic is created.
   */
  table<K = unknown, V = unknown>(topic: string, materialized: Materialized<K, V> & { onDeserializationError?: ErrorHandling }): Table<K, V> {
    const source = this.graph.nameFor('KTABLE-SOURCE', undefined);
    // Without an object, the store's own check says a name is needed.
    materialized ??= {} as Materialized<K, V>;
    new Topology(this.graph).addSource(source, topic, { key: materialized.key, value: materialized.value, onDeserializationError: materialized.onDeserializationError });
    const node = this.graph.nameFor('KTABLE-MATERIALIZE', undefined);
    const store = this.graph.addStore(
      { name: materialized.name, keySerde: materialized.key as Serde<unknown>, valueSerde: materialized.value as Serde<unknown>, sourceTopic: topic, caching: materialized.caching, partitionedByKey: true },
      node,
    ).name;
    this.graph.add({ kind: 'processor', name: node, operator: 'table', parents: [source], supplier: tableSource(store), stores: [store] });
    return this.dsl.table<K, V>(node, { key: materialized.key, value: materialized.value }, store);
  }

  /**
   * A global table over a topic (Kafka Streams' `GlobalKTable`): every partition of it, kept in the
   * store `name` on every instance, brought up to the topic's end before any record is processed
   * and kept up to date while the application runs. Streams join it by a key they compute from
   * each record (`stream.join(globalTable, keySelector, joiner)`), whatever their partitioning. A
   * record with a null value deletes its key; one with a null key is skipped (and counted). The
   * topic is the store's changelog: nothing is written to it. See docs/joins.md.
   *
   * @example
   * ```ts
   * const customers = builder.globalTable<string, Customer>('customers', { name: 'customers' });
   * orders.join(customers, (_, order) => order.customerId, (order, customer) => ({ ...order, customer }));
   * ```
   */
  globalTable<K = unknown, V = unknown>(topic: string, options: GlobalTableOptions<K, V>): GlobalTable<K, V> {
    return addGlobalTable<K, V>(this.graph, topic, options);
  }

  /**
   * Declares a store for custom processors: pass its name in `stores` of `process` to use it.
   *
   * @example
   * ```ts
   * builder.addStateStore({ name: 'seen-ids', key: Serdes.string(), value: Serdes.json<true>(), ttlMs: 3_600_000 });
   * events.process(dedupe, { name: 'dedupe', stores: ['seen-ids'] });
   * ```
   */
  addStateStore<K, V>(store: StoreOptions<K, V>): this {
    this.graph.addStore(storeSpec(store), 'addStateStore');
    return this;
  }

  build(): Topology {
    return new Topology(this.graph);
  }
}

/** The DSL's classes over one graph, each making the others' objects through this context. */
function dslOver(graph: LogicalGraph): DslContext {
  const dsl: DslContext = {
    graph,
    stream: (node, serdes, keyChanged) => new GraphStream(dsl, node, serdes, keyChanged),
    table: (node, serdes, store) => new GraphTable(dsl, node, serdes, store),
    grouped: (node, serdes, repartition) => new GraphGroupedStream(dsl, node, serdes, repartition),
    splitter: (parent, name, serdes) => new GraphSplitter(dsl, parent, name, serdes),
  };
  return dsl;
}
