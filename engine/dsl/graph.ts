import { TopologyError } from '../errors.ts';
import type { ProcessorSupplier, RecordContext } from '../processors/processor.ts';
import type { Serde } from '../serde/serde.ts';
import type { WindowedStoreSpec } from '../../state/window/segment-retention.ts';
import type { RouteSpec } from '../iq/routes.ts';
export type { RouteSpec };

/**
 * What happens to a record that cannot be deserialized or processed: stop the application,
 * log it and go on, or send its original bytes to a dead-letter topic and go on.
 */
export type ErrorHandling = 'fail' | 'log-and-continue' | { deadLetterTopic: string };

/** Chooses a sink's topic per record. */
export type TopicChooser<K = unknown, V = unknown> = (key: K, value: V, context: RecordContext) => string;

export interface SourceSpec {
  kind: 'source';
  name: string;
  topics: string[];
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  onDeserializationError?: ErrorHandling;
  /** The record's event time, read from the record; by default its Kafka timestamp. */
  timestampExtractor?: TimestampExtractor;
}

/** A record as a timestamp extractor sees it: deserialized, with where it came from. */
export interface ExtractableRecord<K = unknown, V = unknown> {
  readonly key: K;
  readonly value: V;
  /** The Kafka record's own timestamp. */
  readonly timestamp: number;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly headers: RecordContext['headers'];
}

/**
 * Reads a record's event time (milliseconds since the epoch) from the record itself, as Kafka
 * Streams' `TimestampExtractor`: windows, stream time and the outputs' timestamps follow it.
 */
export type TimestampExtractor<K = unknown, V = unknown> = (record: ExtractableRecord<K, V>) => number;

export interface ProcessorSpec {
  kind: 'processor';
  name: string;
  /** The operator's kind, e.g. `filter`, shown by `describe`. */
  operator: string;
  parents: string[];
  supplier: ProcessorSupplier;
  onError?: ErrorHandling;
  /** The stores the processor uses, by name. */
  stores?: string[];
  /**
   * True for a sink to a system outside Kafka: start-up summaries list it among what the
   * application writes, and the reset tool says it leaves what it wrote as it is.
   */
  external?: boolean;
  /** Where the records a windowed operator drops as late go besides being counted. */
  onLate?: { deadLetterTopic: string };
  /**
   * The processor reads another input's state by key (a join): the source topics of its
   * sub-topology must have equal partition counts, and the repartition topics it reads are sized
   * like them.
   */
  copartitioned?: boolean;
  /** The global tables' stores the processor reads (a join with a global table): never grouped with tasks. */
  globalStores?: string[];
}

/**
 * A global table's store (Kafka Streams' `GlobalKTable`): every partition of `topic`, kept whole on
 * every instance, outside any task, and read by joins in any sub-topology. The topic is its
 * changelog: Sluice writes nothing to it.
 */
export interface GlobalStoreSpec {
  name: string;
  topic: string;
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  /** What a record that cannot be deserialized does: stop the application, or be logged and skipped. */
  onDeserializationError?: GlobalErrorHandling;
}

/**
 * How a global table treats a record it cannot read. No dead-letter topic: its records are applied
 * outside any task's commit (and transaction), so nothing would make such a write durable with them.
 */
export type GlobalErrorHandling = 'fail' | 'log-and-continue';

/**
 * A key-value store. Its changelog is `<application.id>-<name>-changelog`, or, for a table read
 * from a topic, that topic itself.
 */
export interface StoreSpec {
  name: string;
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  /** The topic that is the store's changelog when it is a table over that topic. */
  sourceTopic?: string;
  /** The write-back cache (one update per key per commit downstream). Default true. */
  caching?: boolean;
  /**
   * How many entries the cache keeps for reads (beyond those changed since the last commit).
   * Default 10,000; a store a join looks up by key on every record keeps more ({@link JOIN_READ_CACHE}).
   */
  readCache?: number;
  /** Entries expire this many milliseconds (of stream time) after their last write. */
  ttlMs?: number;
  /**
   * The entries restored into the store are read into memory before its task starts, so an
   * operator can rebuild an in-memory index from them without awaiting (`StoreProvider.restored`).
   * For small stores only (buffers of pending records); not with a TTL.
   */
  preload?: boolean;
  /**
   * True when every entry is keyed by the key of the records its task reads, so it lives in the
   * partition that key's bytes hash to (murmur2, as producers place records): a query of one key
   * asks that partition only. False (the default) for stores keyed by anything else (an event
   * id, a sequence number): a query of one key asks every partition.
   */
  partitionedByKey?: boolean;
  /** A windowed store: its keys are `Windowed` keys kept in time segments, dropped after its retention. */
  windowed?: WindowedStoreSpec;
}

/** The read cache of a store a join looks its rows up in: a partition's rows of a table of a few hundred thousand keys. */
export const JOIN_READ_CACHE = 100_000;

export interface SinkSpec {
  kind: 'sink';
  name: string;
  parents: string[];
  topic: string | TopicChooser;
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  onError?: ErrorHandling;
}

/** Records go through `<application.id>-<topic>-repartition`, placed by their (new) key. */
export interface RepartitionSpec {
  kind: 'repartition';
  name: string;
  parents: string[];
  /** The middle part of the internal topic's name. */
  topic: string;
  partitions?: number;
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
}

export type NodeSpec = SourceSpec | ProcessorSpec | SinkSpec | RepartitionSpec;

/**
 * The logical graph the DSL and the Processor API record. It only holds data; the compiler
 * validates it and turns it into sub-topologies.
 */
export class LogicalGraph {
  readonly nodes: NodeSpec[] = [];
  readonly stores: StoreSpec[] = [];
  /** The stores of global tables, kept apart: they belong to no sub-topology. */
  readonly globalStores: GlobalStoreSpec[] = [];
  /** Query-server routes that operators brought (see `OperatorScope.addRoute`). */
  readonly routes: RouteSpec[] = [];
  /** What extensions keep once per topology, by their keys (see `OperatorScope.shared`). */
  readonly shared = new Map<symbol, unknown>();
  private index = 0;

  /** A deterministic name, `PREFIX-0000000007`, for operators the user did not name. */
  generateName(prefix: string): string {
    return `${prefix}-${String(this.index++).padStart(10, '0')}`;
  }

  /** Names an operator: the user's name if given (and valid), else a generated one. */
  nameFor(prefix: string, explicit: string | undefined): string {
    if (explicit === undefined) return this.generateName(prefix);
    if (typeof explicit !== 'string' || !/^[A-Za-z0-9._-]+$/.test(explicit)) {
      throw new TopologyError(
        String(explicit),
        'names may use only letters, digits, ".", "_" and "-" (they become parts of topic and store names).',
      );
    }
    this.index++;
    return explicit;
  }

  addStore(store: StoreSpec, operator: string): StoreSpec {
    this.claimStoreName(store.name, operator);
    this.stores.push(store);
    return store;
  }

  /** Declares a global table's store; its name is unique among all stores. */
  addGlobalStore(store: GlobalStoreSpec, operator: string): GlobalStoreSpec {
    this.claimStoreName(store.name, operator);
    this.globalStores.push(store);
    return store;
  }

  private claimStoreName(name: string, operator: string): void {
    if (typeof name !== 'string' || !name) {
      throw new TopologyError(operator, 'a stateful operator needs a store name, e.g. { name: "order-counts" }, so its state survives restarts and upgrades.');
    }
    this.nameFor('STORE', name);
    if (this.stores.some((s) => s.name === name) || this.globalStores.some((s) => s.name === name)) {
      throw new TopologyError(operator, `store "${name}" is already used by another operator; give each store its own name.`);
    }
  }

  /** Marks a store as one a join looks rows up in on every record: its cache keeps more of them for reads. */
  lookedUp(store: string): void {
    const spec = this.stores.find((s) => s.name === store);
    if (spec) spec.readCache = Math.max(spec.readCache ?? 0, JOIN_READ_CACHE);
  }

  /** Gives a processor already in the graph access to a store. */
  connectStore(processor: string, store: string): void {
    const node = this.nodes.find((n) => n.name === processor);
    if (!node) throw new TopologyError(processor, `no processor has this name, so store "${store}" cannot be connected to it; add the processor first.`);
    if (node.kind !== 'processor') throw new TopologyError(processor, `it is a ${node.kind}; only processors can use stores.`);
    node.stores = [...new Set([...(node.stores ?? []), store])];
  }

  /** The node of this name, if any. */
  node(name: string): NodeSpec | undefined {
    return this.nodes.find((n) => n.name === name);
  }

  add<T extends NodeSpec>(node: T): T {
    if (this.nodes.some((n) => n.name === node.name)) {
      throw new TopologyError(node.name, 'the name is used by another operator; give each operator a unique name.');
    }
    this.nodes.push(node);
    return node;
  }
}
