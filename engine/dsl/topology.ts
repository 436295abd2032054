import type { ProcessorSupplier } from '../processors/processor.ts';
import { synchronousProcessor } from '../processors/synchronous.ts';
import type { Serde } from '../serde/serde.ts';
import { TopologyError } from '../errors.ts';
import { requireFunction, requireObject, requireTopic, topicList } from './checks.ts';
import { type ErrorHandling, LogicalGraph, type StoreSpec, type TimestampExtractor, type TopicChooser } from './graph.ts';

export interface SourceOptions<K, V> {
  key?: Serde<K>;
  value?: Serde<V>;
  /** Overrides the application's deserialization error handling for this source. */
  onDeserializationError?: ErrorHandling;
  /**
   * The record's event time, read from the deserialized record (e.g. an ISO `timestamp` field)
   * instead of the Kafka timestamp: windows and stream time follow it, outputs carry it. One that
   * throws or returns a negative or non-finite time sends the record to the deserialization
   * error handling.
   */
  timestampExtractor?: TimestampExtractor<K, V>;
}

/**
 * A key-value store for custom processors (`process` in the DSL, `addProcessor` here). Its
 * changelog is `<application.id>-<name>-changelog`; the name is required so that state
 * survives restarts and upgrades.
 */
export interface StoreOptions<K, V> {
  name: string;
  key?: Serde<K>;
  value?: Serde<V>;
  /** The write-back cache (writes reach LevelDB and the changelog once per key per commit). Default true. */
  caching?: boolean;
  /** Entries expire this many milliseconds after their last write, measured in stream time. */
  ttlMs?: number;
  /**
   * Reads the restored entries into memory before the task starts, for a processor that rebuilds
   * an index from them at once (`stores.restored(name)` in its factory). Not with `ttlMs`.
   */
  preload?: boolean;
  /**
   * Declares that every entry is keyed by the key of the records its processor reads (the key
   * they were partitioned by), so a query of one key asks only the partition murmur2 of its bytes
   * names. Default false: a query of one key asks every partition, which is right for a store
   * keyed by anything else (an event id, a sequence number).
   */
  partitionedByKey?: boolean;
}

export interface SinkOptions<K, V> {
  key?: Serde<K>;
  value?: Serde<V>;
  /** Overrides the application's processing error handling (e.g. a value that cannot be serialized). */
  onError?: ErrorHandling;
}

/**
 * The Processor API: nodes wired by name, as in Kafka Streams' `Topology`. The DSL
 * (`StreamsBuilder`) records into the same graph. Wiring is checked when the topology is
 * compiled: unknown parents, duplicate names and cycles are errors that name the operator.
 *
 * @example
 * ```ts
 * const topology = new Topology()
 *   .addSource('orders', ['orders'], { key: Serdes.string(), value: Serdes.json() })
 *   .addProcessor('priced', ({ next }) => (k, v) => next(k, price(v)), 'orders')
 *   .addSink('out', 'priced-orders', { key: Serdes.string(), value: Serdes.json() }, 'priced');
 * ```
 */
export class Topology {
  readonly graph: LogicalGraph;

  constructor(graph = new LogicalGraph()) {
    this.graph = graph;
  }

  addSource<K, V>(name: string, topics: string | string[], options: SourceOptions<K, V> = {}): this {
    const node = this.graph.nameFor('SOURCE', name);
    this.graph.add({
      kind: 'source',
      name: node,
      topics: topicList(node, topics),
      keySerde: options.key as Serde<unknown> | undefined,
      valueSerde: options.value as Serde<unknown> | undefined,
      onDeserializationError: options.onDeserializationError,
      ...(options.timestampExtractor ? { timestampExtractor: options.timestampExtractor as TimestampExtractor } : {}),
    });
    if (options.timestampExtractor !== undefined) requireFunction(node, 'timestampExtractor', options.timestampExtractor);
    return this;
  }

  /**
   * Adds a processor reading from the named parents. Wiring is by name, so the types a typed
   * supplier (`ProcessorSupplier<KIn, VIn, KOut, VOut>`) states are its own to keep: the parents'
   * outputs are not checked against them.
   */
  addProcessor<KIn, VIn, KOut, VOut>(name: string, supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>, ...parents: string[]): this {
    const node = this.graph.nameFor('PROCESSOR', name);
    requireFunction(node, 'processor supplier', supplier);
    this.graph.add({ kind: 'processor', name: node, operator: 'processor', parents, supplier: synchronousProcessor(supplier) });
    return this;
  }

  /**
   * Declares a store and connects it to processors added before, by name; they reach it with
   * `stores.get(name)`. A store lives in the tasks of one sub-topology.
   */
  addStateStore<K, V>(store: StoreOptions<K, V>, ...processorNames: string[]): this {
    const spec = this.graph.addStore(storeSpec(store), 'addStateStore');
    for (const name of processorNames) this.graph.connectStore(name, spec.name);
    return this;
  }

  addSink<K, V>(name: string, topic: string | TopicChooser<K, V>, options: SinkOptions<K, V> = {}, ...parents: string[]): this {
    const node = this.graph.nameFor('SINK', name);
    requireTopic(node, topic);
    this.graph.add({
      kind: 'sink',
      name: node,
      parents,
      topic: topic as string | TopicChooser,
      keySerde: options.key as Serde<unknown> | undefined,
      valueSerde: options.value as Serde<unknown> | undefined,
      onError: options.onError,
    });
    return this;
  }
}

/** The graph's record of a store the user declared. */
export function storeSpec<K, V>(store: StoreOptions<K, V>): StoreSpec {
  requireObject('addStateStore', 'a store: { name, key?, value?, ... }', store);
  if (store.ttlMs !== undefined && !(Number.isFinite(store.ttlMs) && store.ttlMs > 0)) {
    throw new TopologyError(String(store.name), `ttlMs must be a positive number of milliseconds; got ${String(store.ttlMs)}.`);
  }
  if (store.partitionedByKey !== undefined && typeof store.partitionedByKey !== 'boolean') {
    throw new TopologyError(String(store.name), `partitionedByKey must be true or false; got ${String(store.partitionedByKey)}.`);
  }
  return {
    name: store.name,
    keySerde: store.key as Serde<unknown> | undefined,
    valueSerde: store.value as Serde<unknown> | undefined,
    caching: store.caching,
    ttlMs: store.ttlMs,
    preload: store.preload,
    partitionedByKey: store.partitionedByKey ?? false,
  };
}
