import { tableFilter, tableMapValues, toStream } from '../processors/table-ops.ts';
import type { ProcessorSupplier, RecordContext } from '../processors/processor.ts';
import type { Synchronous } from '../processors/synchronous.ts';
import type { Serde } from '../serde/serde.ts';
import type { LogicalGraph } from './graph.ts';
import { guardOperators } from './operator-guard.ts';
import { Stream } from './stream.ts';
import type { Named, OperatorOptions } from './stream-options.ts';

/** Where a stateful operator keeps its state. The name is required: it names the store and its changelog. */
export interface Materialized<K, V> {
  name: string;
  key?: Serde<K>;
  value?: Serde<V>;
  /** One update per key per commit downstream (default), or every update at once. */
  caching?: boolean;
}

const TABLE_OPERATORS = ['toStream', 'filter', 'filterNot', 'mapValues'] as const;

/**
 * A changelog stream seen as a table: the latest value per key, as Kafka Streams' `KTable`.
 * Comes from `builder.table(topic)` or an aggregation; `toStream()` turns its updates back into
 * a stream.
 */
export class Table<K, V> {
  readonly node: string;
  /** The store holding the table's values, if it is materialized. */
  readonly store: string | undefined;
  private readonly graph: LogicalGraph;
  private readonly serdes: { key?: Serde<K>; value?: Serde<V> };

  /** @internal */
  constructor(graph: LogicalGraph, node: string, serdes: { key?: Serde<K>; value?: Serde<V> }, store?: string) {
    this.graph = graph;
    this.node = node;
    this.serdes = serdes;
    this.store = store;
    return guardOperators(this, 'table', node, TABLE_OPERATORS);
  }

  /** Each update as a record: the key and its new value (null when the key was deleted). */
  toStream(options?: Named): Stream<K, V> {
    const name = this.then('KTABLE-TOSTREAM', 'toStream', toStream, options);
    return new Stream<K, V>(this.graph, name, this.serdes);
  }

  /** Keeps the keys whose value `predicate` accepts; a key that stops matching is deleted downstream. */
  filter(predicate: (key: K, value: V, context: RecordContext) => boolean, options?: OperatorOptions): Table<K, V> {
    return new Table<K, V>(this.graph, this.then('KTABLE-FILTER', 'filter', tableFilter(predicate), options), this.serdes);
  }

  filterNot(predicate: (key: K, value: V, context: RecordContext) => boolean, options?: OperatorOptions): Table<K, V> {
    return new Table<K, V>(this.graph, this.then('KTABLE-FILTER', 'filterNot', tableFilter(predicate, true), options), this.serdes);
  }

  mapValues<V2>(mapper: (value: V, key: K, context: RecordContext) => Synchronous<V2>, options?: OperatorOptions): Table<K, V2> {
    return new Table<K, V2>(this.graph, this.then('KTABLE-MAPVALUES', 'mapValues', tableMapValues(mapper), options), { key: this.serdes.key });
  }

  private then(prefix: string, operator: string, supplier: ProcessorSupplier, options: OperatorOptions | undefined): string {
    const name = this.graph.nameFor(prefix, options?.name);
    this.graph.add({ kind: 'processor', name, operator, parents: [this.node], supplier, onError: options?.onError });
    return name;
  }
}
