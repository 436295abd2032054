import type { ErrorHandling, GlobalErrorHandling, TimestampExtractor, TopicChooser } from '../dsl/graph.ts';
import type { CompiledRoute } from '../iq/routes.ts';
import type { ProcessorSupplier } from '../processors/processor.ts';
import type { Serde } from '../serde/serde.ts';
import type { WindowedStoreSpec } from '../../state/window/segment-retention.ts';

/** A source: where records enter a sub-topology, deserialized with its serdes. */
export interface CompiledSource {
  kind: 'source';
  name: string;
  topics: string[];
  keySerde: Serde<unknown>;
  valueSerde: Serde<unknown>;
  onError: ErrorHandling;
  /** True for the reading end of a repartition topic. */
  internal: boolean;
  /** Reads the record's event time; without it, the Kafka timestamp. */
  timestampExtractor?: TimestampExtractor;
  parents: string[];
  children: string[];
}

export interface CompiledProcessor {
  kind: 'processor';
  name: string;
  operator: string;
  supplier: ProcessorSupplier;
  onError: ErrorHandling;
  stores: string[];
  /** True for a sink to a system outside Kafka. */
  external?: boolean;
  /** Where records a windowed operator drops as late go besides being counted. */
  onLate?: { deadLetterTopic: string };
  /** It reads another input's state by key (a join): see {@link Subtopology.copartitioned}. */
  copartitioned?: boolean;
  /** The global stores it reads (a join with a global table), outside its task. */
  globalStores?: string[];
  /** Every record reaches it having changed nothing a commit writes (see replayable-input.ts). */
  replayableInput?: boolean;
  parents: string[];
  children: string[];
}

export interface CompiledSink {
  kind: 'sink';
  name: string;
  topic: string | TopicChooser;
  keySerde: Serde<unknown>;
  valueSerde: Serde<unknown>;
  onError: ErrorHandling;
  /** True for the writing end of a repartition topic. */
  internal: boolean;
  parents: string[];
  children: string[];
}

export type CompiledNode = CompiledSource | CompiledProcessor | CompiledSink;

/** A key-value store, one instance per task of its sub-topology. */
export interface CompiledStore {
  name: string;
  keySerde: Serde<unknown>;
  valueSerde: Serde<unknown>;
  /** `<application.id>-<name>-changelog`, or the source topic of a table. */
  changelogTopic: string;
  /** True when the changelog is the table's own source topic (nothing extra is written). */
  sourceChangelog: boolean;
  caching: boolean;
  /** Entries the cache keeps for reads (see StoreSpec.readCache); undefined: the cache's default. */
  readCache?: number;
  /** Entries expire this long after their last write (stream time), if set. */
  ttlMs?: number;
  /** Its restored entries are read into memory before the task starts. */
  preload: boolean;
  subtopology: number;
  /**
   * Its keys are the keys its task's records were partitioned by: a key lives in the partition
   * murmur2 of its bytes names, so a query of one key asks one partition; otherwise every one.
   */
  partitionedByKey: boolean;
  /** A windowed store: keys in time segments (its key serde writes them so), with a retention. */
  windowed?: WindowedStoreSpec;
  /** A windowed store's keys without their windows: what queries of a key's windows parse. */
  windowKeySerde?: Serde<unknown>;
}

/**
 * A global table's store: every partition of its topic in one store per instance, outside any
 * task, brought up to the topic's end at start and kept up to date while the application runs.
 */
export interface CompiledGlobalStore {
  name: string;
  /** The topic it reads: its changelog, which nothing in the application writes. */
  changelogTopic: string;
  keySerde: Serde<unknown>;
  valueSerde: Serde<unknown>;
  /** What a record that cannot be deserialized does. */
  onError: GlobalErrorHandling;
  /** The processors that read it (joins), by name. */
  readBy: string[];
}

/**
 * A connected part of the topology (nodes joined by a record path or by a store they share);
 * one task per partition of its source topics runs it.
 */
export interface Subtopology {
  id: number;
  sourceTopics: string[];
  /**
   * Its source topics must have equal partition counts (a join reads one input's state by the
   * other's keys, so partition p of each must hold the same keys); the repartition topics it
   * reads take that count.
   */
  copartitioned: boolean;
  /** Sources first, then every node after all its parents. */
  nodes: CompiledNode[];
}

export interface InternalTopic {
  name: string;
  kind: 'repartition' | 'changelog';
  /** Fixed by the user, or taken at start from the topics the writing sub-topology reads. */
  partitions: number | undefined;
  /** The sub-topology that writes the topic. */
  writtenBy: number;
  config: Record<string, string>;
}

/** The output of the compiler: what the runtime runs and `describe` shows. */
export interface CompiledTopology {
  applicationId: string;
  subtopologies: Subtopology[];
  internalTopics: InternalTopic[];
  stores: CompiledStore[];
  /** The stores of global tables, kept whole on every instance (no tasks). */
  globalStores: CompiledGlobalStore[];
  /** Topics the application reads that it does not create (user topics). */
  externalSourceTopics: string[];
  /** Topics sinks write to by name, user topics only. */
  externalSinkTopics: string[];
  /** Query-server routes that operators brought (an extension's), with the topics they write to. */
  routes: CompiledRoute[];
}
