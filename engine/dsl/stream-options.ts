// The options of the DSL's operators. Those that wire a stream of their own (`onDuplicate`,
// `onStale`, `onRejected`, `onMissingDependency`) are completed in api.ts, beside `Stream`.
import type { PriorityFunction } from '../processors/prioritize.ts';
import type { RecordContext } from '../processors/processor.ts';
import type { VersionCheck } from '../processors/project.ts';
import type { Synchronous } from '../processors/synchronous.ts';
import type { Serde } from '../serde/serde.ts';
import type { ErrorHandling, GlobalErrorHandling } from './graph.ts';
import type { AsyncCallOptions } from '../processors/async/async-options.ts';

/** Every operator takes an optional name; named operators keep their identity across upgrades. */
export interface Named {
  name?: string;
}

export interface OperatorOptions extends Named {
  /** Overrides the application's processing error handling for this operator. */
  onError?: ErrorHandling;
}

export interface ProcessOptions extends OperatorOptions {
  /** The stores (declared with `builder.addStateStore`) the processor uses. */
  stores?: string[];
}

export interface ToOptions<K, V> extends OperatorOptions {
  key?: Serde<K>;
  value?: Serde<V>;
}

/** Options of `dedupe` (with `onDuplicate`: `DedupeOptions`). */
export interface DedupeSettings<K, V> extends OperatorOptions {
  /** The store of ids seen (required: state must survive restarts and upgrades). */
  store: string;
  /** The record's unique id, e.g. its event id. */
  id: (key: K, value: V, context: RecordContext) => string;
  /** How long an id is remembered, in stream time (record timestamps). */
  ttlMs: number;
}

/** Options of `versionGate` (with `onStale`: `VersionGateOptions`). */
export interface VersionGateSettings<K, V> extends OperatorOptions {
  /** The store of each key's last version that passed (required). */
  store: string;
  /** The record's version: it passes only when newer than the key's last one. */
  version: (key: K, value: V, context: RecordContext) => number;
}

/** Options of `project` (with `onRejected`: `ProjectOptions`). */
export interface ProjectSettings<K, V, S> extends Named {
  /** The view's store: key → the read model (required; it is what queries read). */
  store: string;
  /** Folds an event into the key's view (null when there is none); null deletes the view. */
  apply: (view: S | null, event: V, key: K, context: RecordContext) => Synchronous<S> | null;
  /** Optimistic concurrency: which events fit the view (see {@link VersionCheck}). */
  version?: VersionCheck<V, S>;
  value?: Serde<S>;
  /** One update per key per commit downstream (default), or every update at once. */
  caching?: boolean;
}

/** Where a windowed aggregation keeps its windows, and what it does with late records. */
export interface WindowedMaterialized<K, V> extends Materialized<K, V> {
  /**
   * How long windows are kept, in milliseconds after their start (sessions: their end), for
   * queries; at least (and by default) as long as records can still reach them.
   */
  retentionMs?: number;
  /** Records that arrive after their windows closed are counted and dropped; with this, also sent to a dead-letter topic. */
  onLate?: { deadLetterTopic: string };
  /** `final`: one result per window once it closes (as `.suppress(Suppressed.untilWindowCloses())`); default `update`. */
  emit?: 'update' | 'final';
}

/** Options of `prioritize`. */
export interface PrioritizeOptions<K, V> extends OperatorOptions {
  /** The store of held records (required: held records must survive a crash). */
  store: string;
  /** Held records beyond this many make it send the best at once, until it holds this many. */
  maxBuffered: number;
  /** Every this many milliseconds (wall-clock) it sends everything it holds, best first. */
  windowMs: number;
  /**
   * A record's rank, higher first (ties in arrival order). `ageMs`: now minus the record's
   * timestamp; `now`: the machine's clock. Called when a record arrives, when it becomes the
   * oldest held record of its key, and again for those at each window's flush (ages change).
   */
  priority: PriorityFunction<K, V>;
}

/** Options of `batch` (with `onMissingDependency`: `BatchOptions`). */
export interface BatchSettings<K, V> extends OperatorOptions {
  /** The store of pending records (required: pending records must survive a crash). */
  store: string;
  /** A batch closes when it holds this many records. */
  maxSize: number;
  /**
   * A batch closes when its values' serialized sizes add up to this many bytes; a record that
   * would take it past them starts the next batch. Default: no limit.
   */
  maxBytes?: number;
  /** A batch closes this many milliseconds (wall-clock) after its first record entered. */
  lingerMs: number;
  /**
   * The open batch also closes at every commit (reason `commit`): its records then never reach
   * the store's changelog (only records waiting for dependencies do), which saves a changelog
   * record, and its deletion, per record held across a commit. Batches get no larger than a
   * commit interval's worth. Default false.
   */
  closeOnCommit?: boolean;
  /** The record's unique id, which other records name in `dependsOn` (give both or neither). */
  id?: (value: V, key: K) => string;
  /** The ids of the records this one must follow: it enters a batch only after all of them. */
  dependsOn?: (value: V, key: K) => readonly string[];
  /** The store of released ids, with a TTL. Default `<store>-released`. */
  releasedStore?: string;
  /** How long a released id is remembered, in stream time (required with `dependsOn`). */
  releasedTtlMs?: number;
  /** How long (wall-clock) a record waits for its dependencies. Default 30 s. */
  dependencyTimeoutMs?: number;
}

/** The options of a join of a stream with a table. */
export interface JoinOptions<K, V> extends OperatorOptions {
  /** Serdes of the repartition topic the join adds when an operator upstream changed the stream's keys. */
  key?: Serde<K>;
  value?: Serde<V>;
}

/**
 * The options of a join of two streams (Kafka Streams' `StreamJoined`): serdes of the key and of
 * each stream's values, for the join's window stores and for repartition topics. `name` names
 * the join's nodes and stores (`<name>-this-join-store`, `<name>-other-join-store`,
 * `<name>-outer-shared-join-store`).
 */
export interface StreamJoinOptions<K, V, VO> extends OperatorOptions {
  key?: Serde<K>;
  value?: Serde<V>;
  otherValue?: Serde<VO>;
}

/**
 * The options of a join of two tables: serdes of the key and of each table's values, for the
 * join's store of both tables' rows (`<name>-join-store`), and a store for the joined table
 * (`materialized`), which makes it queryable and joinable with a stream.
 */
export interface TableJoinOptions<K, V, VO, R> extends OperatorOptions {
  key?: Serde<K>;
  value?: Serde<V>;
  otherValue?: Serde<VO>;
  materialized?: Materialized<K, R>;
}

/**
 * The options of a foreign-key join: serdes of the left table's key and values, of the foreign
 * key (the right table's key) and of the right table's values, for the join's topics and stores;
 * and the joined table's store (default `<name>-store`).
 */
export interface ForeignKeyJoinOptions<K, V, KO, VO, R> extends TableJoinOptions<K, V, VO, R> {
  foreignKey?: Serde<KO>;
}

export interface RepartitionOptions<K, V> extends Named {
  /** Partitions of the repartition topic; by default those of the sub-topology's source topics. */
  partitions?: number;
  key?: Serde<K>;
  value?: Serde<V>;
}

/** @internal The serdes known for a stream's key and value; unknown once an operator changes the type. */
export interface KnownSerdes<K, V> {
  key?: Serde<K>;
  value?: Serde<V>;
}

/** Where a stateful operator keeps its state. The name is required: it names the store and its changelog. */
export interface Materialized<K, V> {
  name: string;
  key?: Serde<K>;
  value?: Serde<V>;
  /** One update per key per commit downstream (default), or every update at once. */
  caching?: boolean;
}

/**
 * The options of `builder.globalTable`: the store's name (required: it names the store, on disk and
 * in queries), the topic's serdes, and what a record that cannot be read does (default: the
 * application's `onDeserializationError`, which must then be `fail` or `log-and-continue`).
 */
export interface GlobalTableOptions<K, V> {
  name: string;
  key?: Serde<K>;
  value?: Serde<V>;
  onDeserializationError?: GlobalErrorHandling;
}

/** Options of `mapValuesAsync`, `mapAsync`, `flatMapAsync`, `filterAsync` and `forEachAsync` (see docs/async.md). */
export interface AsyncOptions extends AsyncCallOptions {
  /** The node's name (`describe`, metrics, logs). */
  name?: string;
  /** What happens to a record whose every attempt failed: `fail` (the default, or the application's), `log-and-continue`, or a dead-letter topic (its original bytes and the last error). */
  onError?: ErrorHandling;
}
