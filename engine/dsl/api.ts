// The DSL's public types: the streams, tables, grouped streams and splitters `StreamsBuilder`
// hands out, and the option types that mention them. They refer to each other (a stream groups
// into a grouped stream, which aggregates into a table, whose updates are a stream), so they live
// together here, as Kafka Streams' `KStream`, `KGroupedStream` and `KTable` interfaces do; the
// classes that record them into the logical graph implement them (`stream.ts`, `table.ts`,
// `grouped-stream.ts`, `splitter.ts`) and import this file, never each other.
import type { Batch } from '../processors/batch.ts';
import type { KeyValue } from '../processors/map.ts';
import type { ProcessorSupplier, RecordContext, RecordHeader } from '../processors/processor.ts';
import type { FailedWrite, Sink } from '../processors/sink.ts';
import type { Synchronous } from '../processors/synchronous.ts';
import type { Serde } from '../serde/serde.ts';
import type { SessionWindows, SlidingWindows, TimeWindows, Windowed } from '../processors/windows/specs.ts';
import type { JoinWindows } from '../processors/windows/join-windows.ts';
import type { Suppressed } from './suppressed.ts';
import type { ProcessorSpec, RouteSpec, StoreSpec, TopicChooser } from './graph.ts';
import type { AsyncCallContext } from '../processors/async/async-options.ts';
import type {
  AsyncOptions,
  BatchSettings,
  DedupeSettings,
  JoinOptions,
  StreamJoinOptions,
  TableJoinOptions,
  ForeignKeyJoinOptions,
  KnownSerdes,
  Materialized,
  Named,
  OperatorOptions,
  PrioritizeOptions,
  ProcessOptions,
  ProjectSettings,
  RepartitionOptions,
  ToOptions,
  VersionGateSettings,
  WindowedMaterialized,
} from './stream-options.ts';

/** A record-level callback: `(key, value, context)`. */
export type RecordFunction<K, V, R> = (key: K, value: V, context: RecordContext) => R;

/**
 * A record stream: the typed DSL over the logical graph, as Kafka Streams' `KStream`. Operators
 * only record nodes; nothing runs until the application starts. Callbacks get `(key, value, context)` (`mapValues`,
 * `flatMapValues`: `(value, key, context)`), the context carrying topic, partition, offset, timestamp and headers; all are synchronous but the async operators'.
 *
 * @example
 * ```ts
 * builder.stream('orders', { key: Serdes.string(), value: Serdes.json<Order>() })
 *   .filter((_, order) => order.total > 0)
 *   .mapValues((order) => ({ ...order, vat: order.total * 0.2 }))
 *   .to('priced-orders', { value: Serdes.json() });
 * ```
 */
export interface Stream<K, V> {
  /** The node whose output this stream is. */
  readonly node: string;
  /** Keeps the records `predicate` accepts; a type guard narrows the value type. */
  filter<S extends V>(predicate: (key: K, value: V, context: RecordContext) => value is S, options?: OperatorOptions): Stream<K, S>;
  filter(predicate: RecordFunction<K, V, boolean>, options?: OperatorOptions): Stream<K, V>;
  /** Drops the records `predicate` accepts; a type guard removes that type. */
  filterNot<S extends V>(predicate: (key: K, value: V, context: RecordContext) => value is S, options?: OperatorOptions): Stream<K, Exclude<V, S>>;
  filterNot(predicate: RecordFunction<K, V, boolean>, options?: OperatorOptions): Stream<K, V>;
  /** A new key and value per record, returned as `[key, value]`. */
  map<K2, V2>(mapper: RecordFunction<K, V, KeyValue<K2, V2>>, options?: OperatorOptions): Stream<K2, V2>;
  /** A new value per record; the key stays. */
  mapValues<V2>(mapper: (value: V, key: K, context: RecordContext) => Synchronous<V2>, options?: OperatorOptions): Stream<K, V2>;
  /** Zero or more `[key, value]` pairs per record. */
  flatMap<K2, V2>(mapper: RecordFunction<K, V, Iterable<KeyValue<K2, V2>>>, options?: OperatorOptions): Stream<K2, V2>;
  /** Zero or more values per record, under its key. */
  flatMapValues<V2>(mapper: (value: V, key: K, context: RecordContext) => Iterable<V2>, options?: OperatorOptions): Stream<K, V2>;
  /** The async twins of mapValues, map, flatMap, filter and a terminal forEach: bounded concurrency, key order, time-outs, retries (docs/async.md). */
  mapValuesAsync<V2>(mapper: (value: V, key: K, context: AsyncCallContext) => Promise<V2>, options?: AsyncOptions): Stream<K, V2>;
  mapAsync<K2, V2>(mapper: (key: K, value: V, context: AsyncCallContext) => Promise<KeyValue<K2, V2>>, options?: AsyncOptions): Stream<K2, V2>;
  flatMapAsync<K2, V2>(mapper: (key: K, value: V, context: AsyncCallContext) => Promise<Iterable<KeyValue<K2, V2>>>, options?: AsyncOptions): Stream<K2, V2>;
  filterAsync(predicate: (key: K, value: V, context: AsyncCallContext) => Promise<boolean>, options?: AsyncOptions): Stream<K, V>;
  forEachAsync(action: (key: K, value: V, context: AsyncCallContext) => Promise<unknown>, options?: AsyncOptions): void;
  /** A new key per record; follow with `repartition()` to place records by it. */
  selectKey<K2>(selector: (key: K, value: V, context: RecordContext) => Synchronous<K2>, options?: OperatorOptions): Stream<K2, V>;
  /** Runs `action` on each record (logging, metrics) and passes it on unchanged. */
  peek<R>(action: (key: K, value: V, context: RecordContext) => Synchronous<R>, options?: OperatorOptions): Stream<K, V>;
  /** Replaces the headers of the records passed on (sibling branches keep theirs). */
  withHeaders(compute: RecordFunction<K, V, RecordHeader[] | undefined>, options?: OperatorOptions): Stream<K, V>;
  /**
   * A custom processor (see `ProcessorSupplier`). It takes this stream's records, and the stream
   * it returns has the types the supplier forwards: stated by a typed supplier
   * (`ProcessorSupplier<K, V, K2, V2>`) or with `process<K2, V2>(...)`, else this stream's. It may
   * use stores declared with `builder.addStateStore`, named in `stores`. Its per-record function
   * is synchronous: one that returns a promise is refused with an `AsyncCallbackError`.
   */
  process<K2 = K, V2 = V>(supplier: ProcessorSupplier<K, V, K2, V2>, options?: ProcessOptions): Stream<K2, V2>;
  /**
   * Drops (or, with `onDuplicate`, routes) a record whose id was already seen within `ttlMs` of
   * stream time. The ids live in a store with a TTL and a changelog, so a restart or a moved task
   * remembers them. Duplicates must share a partition: key records by what they are about.
   */
  dedupe(options: DedupeOptions<K, V>): Stream<K, V>;
  /**
   * Passes a record only when its version is newer than the last that passed for its key; older
   * and equal versions are dropped (or, with `onStale`, routed), so redelivery and reordering
   * never roll a read model back.
   */
  versionGate(options: VersionGateOptions<K, V>): Stream<K, V>;
  /**
   * An event-sourced read model (a projection) per key: each event is folded into the key's view
   * with `apply`; the views are a table in `store`, which interactive queries read. With
   * `version`, events that do not fit the view (optimistic concurrency) are rejected.
   */
  project<S>(options: ProjectOptions<K, V, S>): Table<K, S>;
  /**
   * Writes the records to a system outside Kafka through `sink` (see `Sink`; engine/sinks/ has
   * the ones Sluice ships). Returns the records written (once the sink finished them, inside a commit) and those
   * that failed for good (also sent to the operator's dead-letter topic, if `onError` names one).
   * The sink reads a topic directly: when the stream does not come straight from one, it goes
   * through a repartition topic, `<application.id>-<name>-input-repartition`, first.
   */
  sink(sink: Sink<K, V>, options?: OperatorOptions): SinkStreams<K, V>;
  /**
   * Applies an operator from outside the DSL (see `StreamOperator`; engine/extensions/ has the
   * extensions Sluice ships) and returns what it builds.
   */
  via<R>(operator: StreamOperator<K, V, R>): R;
  /**
   * Holds records and sends them on ranked by `priority`, best first: every `windowMs` of the
   * machine's clock everything held goes out, and beyond `maxBuffered` the best go at once. Only
   * the oldest held record of a key is eligible, so a key's records keep their order.
   */
  prioritize(options: PrioritizeOptions<K, V>): Stream<K, V>;
  /**
   * Groups records into batches, sent on as one record each (a `Batch`, keyed by its first
   * record's key), closed at `maxSize` records, `maxBytes`, or `lingerMs` after the first. With
   * `id` and `dependsOn`, a record enters a batch only after the records it depends on.
   */
  batch(options: BatchOptions<K, V>): Stream<K, Batch<K, V>>;
  /** Routes each record to the first matching branch: `.split().branch(...).defaultBranch()`. */
  split(options?: Named): Splitter<K, V, object>;
  /**
   * One stream with the records of both, each stream's order kept; its values are of either type.
   * It keeps a serde the two streams share (or the one only one of them knows).
   */
  merge<V2>(other: Stream<K, V2>, options?: Named): Stream<K, V | V2>;
  /**
   * Sends the records through an internal topic, `<application.id>-<name>-repartition`, placed by
   * key, and reads them back in a new sub-topology. Records of one key keep their order.
   */
  repartition(options?: RepartitionOptions<K, V>): Stream<K, V>;
  /** Writes the records to a topic, or to the topic `chooser` names for each record. */
  to(topic: string | TopicChooser<K, V>, options?: ToOptions<K, V>): void;
  /** Stream-table join: each record joined with the table's value for its key when processed; table updates trigger nothing; null keys and values dropped (counted). See docs/joins.md. */
  join<VT, R>(table: Table<K, VT>, joiner: (value: V, tableValue: VT, key: K, context: RecordContext) => Synchronous<R>, options?: JoinOptions<K, V>): Stream<K, R>;
  /** As `join`, but a record the table has nothing for (or with a null key, KIP-962) is joined with `null`. */
  leftJoin<VT, R>(table: Table<K, VT>, joiner: (value: V, tableValue: VT | null, key: K, context: RecordContext) => Synchronous<R>, options?: JoinOptions<K, V>): Stream<K, R>;
  /** Joins each record with the row of `globalTable` that `keySelector` names, read on this instance: no co-partitioning, no repartition; a missing row or a null lookup key gives nothing (Kafka Streams' `join(GlobalKTable, ...)`). See docs/joins.md. */
  join<KG, VG, R>(globalTable: GlobalTable<KG, VG>, keySelector: (key: K, value: V, context: RecordContext) => Synchronous<KG | null | undefined>, joiner: (value: V, globalValue: VG, key: K, context: RecordContext) => Synchronous<R>, options?: OperatorOptions): Stream<K, R>;
  /** As the global table `join`, but a record whose row is missing, or whose lookup key is null, is joined with `null`. */
  leftJoin<KG, VG, R>(globalTable: GlobalTable<KG, VG>, keySelector: (key: K, value: V, context: RecordContext) => Synchronous<KG | null | undefined>, joiner: (value: V, globalValue: VG | null, key: K, context: RecordContext) => Synchronous<R>, options?: OperatorOptions): Stream<K, R>;
  /** Stream-stream join: each pair of records of a key at most the window apart, either side triggering, at the later timestamp; both kept in window stores. See docs/joins.md. */
  join<VO, R>(other: Stream<K, VO>, joiner: (value: V, otherValue: VO, key: K, context: RecordContext) => Synchronous<R>, windows: JoinWindows, options?: StreamJoinOptions<K, V, VO>): Stream<K, R>;
  /** As the stream-stream `join`, and a record nothing joined goes out with `null` once its window has closed (never earlier). */
  leftJoin<VO, R>(other: Stream<K, VO>, joiner: (value: V, otherValue: VO | null, key: K, context: RecordContext) => Synchronous<R>, windows: JoinWindows, options?: StreamJoinOptions<K, V, VO>): Stream<K, R>;
  /** As `leftJoin`, for the records of both streams: an unmatched record of `other` goes out with this side null. */
  outerJoin<VO, R>(other: Stream<K, VO>, joiner: (value: V | null, otherValue: VO | null, key: K, context: RecordContext) => Synchronous<R>, windows: JoinWindows, options?: StreamJoinOptions<K, V, VO>): Stream<K, R>;
  /** Groups by the current key (through a repartition topic if an operator changed keys). */
  groupByKey(options?: { key?: Serde<K>; value?: Serde<V> }): GroupedStream<K, V>;
  /** Groups by a new key; records go through a repartition topic before they are aggregated. */
  groupBy<K2>(selector: (key: K, value: V, context: RecordContext) => Synchronous<K2>, options?: Named & { key?: Serde<K2>; value?: Serde<V> }): GroupedStream<K2, V>;
}

/**
 * A changelog stream seen as a table: the latest value per key, as Kafka Streams' `KTable`. Comes
 * from `builder.table(topic)` or an aggregation; `toStream()` turns its updates into a stream.
 */
export interface Table<K, V> {
  readonly node: string;
  /** The store holding the table's values, if it is materialized. */
  readonly store: string | undefined;
  /** Each update as a record: the key and its new value (null when the key was deleted). */
  toStream(options?: Named): Stream<K, V>;
  /** Keeps the keys whose value `predicate` accepts (a type guard narrows the value type); a key that stops matching is deleted downstream. */
  filter<S extends V>(predicate: (key: K, value: V, context: RecordContext) => value is S, options?: OperatorOptions): Table<K, S>;
  filter(predicate: RecordFunction<K, V, boolean>, options?: OperatorOptions): Table<K, V>;
  /** Drops the keys whose value `predicate` accepts (a type guard removes that type). */
  filterNot<S extends V>(predicate: (key: K, value: V, context: RecordContext) => value is S, options?: OperatorOptions): Table<K, Exclude<V, S>>;
  filterNot(predicate: RecordFunction<K, V, boolean>, options?: OperatorOptions): Table<K, V>;
  /** Maps each value; deletions stay deletions. */
  mapValues<V2>(mapper: (value: V, key: K, context: RecordContext) => Synchronous<V2>, options?: OperatorOptions): Table<K, V2>;
  /**
   * Groups the rows by a new key for an aggregation that follows them as they change (Kafka
   * Streams' `KTable.groupBy`): `selector` gives each row's group and the value it brings there.
   * When a row changes, its old value is subtracted from its old group and its new value added
   * to its new group (users per country, as users move). Through a repartition topic; see
   * docs/joins.md.
   */
  groupBy<K2, V2>(selector: (key: K, value: V, context: RecordContext) => Synchronous<[K2, V2]>, options?: Named & { key?: Serde<K2>; value?: Serde<V2> }): GroupedTable<K2, V2>;
  /** Table-table join: the keys both have, updated or deleted as either side changes (old and new values), at the later row's timestamp. See docs/joins.md. */
  join<VO, R>(other: Table<K, VO>, joiner: (value: V, otherValue: VO, key: K, context: RecordContext) => Synchronous<R>, options?: TableJoinOptions<K, V, VO, R>): Table<K, R>;
  /** Foreign-key join: each row with the row of `other` its foreign key names, following both as they change; no co-partitioning. See docs/joins.md. */
  join<KO, VO, R>(other: Table<KO, VO>, foreignKey: (value: V, key: K) => KO | null, joiner: (value: V, otherValue: VO, key: K, context: RecordContext) => Synchronous<R>, options?: ForeignKeyJoinOptions<K, V, KO, VO, R>): Table<K, R>;
  /** As `join`, for every key of this table: the other side is null where `other` has no row. */
  leftJoin<VO, R>(other: Table<K, VO>, joiner: (value: V, otherValue: VO | null, key: K, context: RecordContext) => Synchronous<R>, options?: TableJoinOptions<K, V, VO, R>): Table<K, R>;
  /** As the foreign-key `join`, for every row of this table: joined with null where the foreign key is null or `other` has no row for it. */
  leftJoin<KO, VO, R>(other: Table<KO, VO>, foreignKey: (value: V, key: K) => KO | null, joiner: (value: V, otherValue: VO | null, key: K, context: RecordContext) => Synchronous<R>, options?: ForeignKeyJoinOptions<K, V, KO, VO, R>): Table<K, R>;
  /** As `join`, for every key either table has: the missing side is null. */
  outerJoin<VO, R>(other: Table<K, VO>, joiner: (value: V | null, otherValue: VO | null, key: K, context: RecordContext) => Synchronous<R>, options?: TableJoinOptions<K, V, VO, R>): Table<K, R>;
}

/**
 * A table's rows grouped by a new key (Kafka Streams' `KGroupedTable`): each aggregation takes
 * an adder and a subtractor, applied as rows join and leave a group.
 */
export interface GroupedTable<K, V> {
  /** Rows per group (a JSON number); a group emptied counts 0. */
  count(materialized: Materialized<K, number>): Table<K, number>;
  /** The first value of a group is its aggregate; `adder` combines one joining, `subtractor` takes one leaving out. */
  reduce(adder: (aggregate: V, value: V, key: K) => Synchronous<V>, subtractor: (aggregate: V, value: V, key: K) => Synchronous<V>, materialized: Materialized<K, V>): Table<K, V>;
  /** A fold from `initializer`: `adder` as a row joins the group, `subtractor` as one leaves it. */
  aggregate<A>(
    initializer: () => Synchronous<A>,
    adder: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    subtractor: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    materialized: Materialized<K, A>,
  ): Table<K, A>;
}

/** What `sink` returns: the records written, and those that failed for good. */
export interface SinkStreams<K, V> {
  applied: Stream<K, V>;
  failed: Stream<K, FailedWrite<V>>;
}

/**
 * A global table (Kafka Streams' `GlobalKTable`), from `builder.globalTable`: every partition of its
 * topic, kept whole on each instance. A stream joins it by a key it computes from each record, with
 * no co-partitioning; it has no other operators. See docs/joins.md.
 */
export interface GlobalTable<K, V> {
  /** Its store, which any instance answers queries of from its own copy. */
  readonly store: string;
  /** The topic it reads, which is its changelog. */
  readonly topic: string;
  /** The serdes it reads the topic with, when given (else the application's defaults). */
  readonly keySerde: Serde<K> | undefined;
  readonly valueSerde: Serde<V> | undefined;
}

/**
 * A stream grouped by key, ready to aggregate (Kafka Streams' `KGroupedStream`). When the key was
 * changed upstream, records first go through `<application.id>-<store>-repartition`.
 */
export interface GroupedStream<K, V> {
  readonly node: string;
  /** Aggregations per time window (tumbling, hopping) or sliding window of each key. */
  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedStream<K, V>;
  /** Aggregations per session (a key's records no more than the gap apart). */
  windowedBy(windows: SessionWindows): SessionWindowedStream<K, V>;
  /** The number of records per key (a JSON number in the store by default). */
  count(materialized: Materialized<K, number>): Table<K, number>;
  /** Combines each key's values, the first value being the start. */
  reduce<R extends V>(reducer: (aggregate: V, value: V, key: K) => Synchronous<R>, materialized: Materialized<K, V>): Table<K, V>;
  /** Folds each key's records into an aggregate that starts as `initializer()`. */
  aggregate<A>(
    initializer: () => Synchronous<A>,
    aggregator: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    materialized: Materialized<K, A>,
  ): Table<K, A>;
}

/** What every windowed stream has: counting and reducing per window (aggregating differs by kind). */
export interface WindowedCounts<K, V> {
  readonly node: string;
  /** The number of records per key and window (a JSON number in the store by default). */
  count(materialized: WindowedMaterialized<K, number>): WindowedTable<K, number>;
  /** Combines each key's values per window, the first value being the start. */
  reduce<R extends V>(reducer: (aggregate: V, value: V, key: K) => Synchronous<R>, materialized: WindowedMaterialized<K, V>): WindowedTable<K, V>;
}

/**
 * A grouped stream cut into time or sliding windows (Kafka Streams' `TimeWindowedKStream`): each
 * aggregation is a table keyed by key and window.
 *
 * @example
 * ```ts
 * views.groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(60_000, 10_000)).count({ name: 'views-per-minute' });
 * ```
 */
export interface TimeWindowedStream<K, V> extends WindowedCounts<K, V> {
  aggregate<A>(
    initializer: () => Synchronous<A>,
    aggregator: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    materialized: WindowedMaterialized<K, A>,
  ): WindowedTable<K, A>;
}

/** A grouped stream cut into sessions (Kafka Streams' `SessionWindowedKStream`). */
export interface SessionWindowedStream<K, V> extends WindowedCounts<K, V> {
  /** `merger` combines two sessions' aggregates when a record bridges them. */
  aggregate<A>(
    initializer: () => Synchronous<A>,
    aggregator: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    merger: (key: K, aggregate1: A, aggregate2: A) => Synchronous<A>,
    materialized: WindowedMaterialized<K, A>,
  ): WindowedTable<K, A>;
}

/** A table of windowed aggregates: keys are `{ key, window: { start, end } }`. */
export interface WindowedTable<K, V> extends Table<Windowed<K>, V> {
  /** Holds each window's updates until it closes, then sends its final result once. */
  suppress(suppressed: Suppressed): WindowedTable<K, V>;
}

/**
 * Builds the branches of a `split`. Each `branch` adds a named stream to the result;
 * `defaultBranch` or `noDefaultBranch` ends it and returns the streams by branch name.
 *
 * @example
 * ```ts
 * const { valid, invalid } = events.split({ name: 'check' })
 *   .branch('valid', (_, e): e is Event => isEvent(e))
 *   .defaultBranch('invalid');
 * ```
 */
export interface Splitter<K, V, B extends object> {
  branch<N extends string, S extends V>(name: N, predicate: (key: K, value: V, context: RecordContext) => value is S): Splitter<K, V, B & { [P in N]: Stream<K, S> }>;
  branch<N extends string>(name: N, predicate: RecordFunction<K, V, boolean>): Splitter<K, V, B & { [P in N]: Stream<K, V> }>;
  /** Records no branch took go to this one. */
  defaultBranch<N extends string = 'default'>(name?: N): B & { [P in N]: Stream<K, V> };
  /** Records no branch took are dropped. */
  noDefaultBranch(): B;
}

/** Options of `dedupe`. */
export interface DedupeOptions<K, V> extends DedupeSettings<K, V> {
  /** Wires the duplicates (otherwise dropped), e.g. to a status topic. */
  onDuplicate?: (duplicates: Stream<K, V>) => void;
}

/** Options of `versionGate`. */
export interface VersionGateOptions<K, V> extends VersionGateSettings<K, V> {
  /** Wires the stale records (otherwise dropped). */
  onStale?: (stale: Stream<K, V>) => void;
}

/** Options of `project`. */
export interface ProjectOptions<K, V, S> extends ProjectSettings<K, V, S> {
  /** Wires the events that did not fit (otherwise dropped). */
  onRejected?: (rejected: Stream<K, V>) => void;
}

/** Options of `batch`. */
export interface BatchOptions<K, V> extends BatchSettings<K, V> {
  /**
   * Wires the records whose dependencies did not come in time (with header
   * `sluice.missing.dependencies`); without it they are batched anyway, with a warning.
   */
  onMissingDependency?: (missing: Stream<K, V>) => void;
}

/**
 * An operator from outside the DSL, applied with `stream.via(operator)`: it gets the stream and
 * an {@link OperatorScope}, adds what it needs to the topology, and returns what it built.
 *
 * @example
 * ```ts
 * const tagged = (tag: string): StreamOperator<string, string, Stream<string, string>> => (stream) =>
 *   stream.mapValues((value) => `${tag}${value}`, { name: `tag-${tag}` });
 * words.via(tagged('#')).to('tagged-words');
 * ```
 */
export type StreamOperator<K, V, R> = (stream: Stream<K, V>, scope: OperatorScope<K, V>) => R;

/**
 * The seam for operators that bring their own stores, nodes and query-server routes: what a
 * {@link StreamOperator} may add to the topology besides calling the stream's operators. It only
 * records into the logical graph, as the DSL's own operators do; the compiler checks it all.
 */
export interface OperatorScope<K, V> {
  /** The serdes known for the stream's key and value (unknown once an operator changed its type). */
  readonly serdes: KnownSerdes<K, V>;
  /** True when an operator upstream may have changed keys: state kept per key needs a `repartition()` first. */
  readonly keyChanged: boolean;
  /** A node's name: `explicit` when given (letters, digits, `.`, `_`, `-`), else `PREFIX-0000000007`. */
  name(prefix: string, explicit: string | undefined): string;
  /** Declares a store (with its changelog); `operator` names the node declaring it, for errors. */
  addStore(store: StoreSpec, operator: string): void;
  /** Adds a processor node; set its `supplier` later if it routes to children added after it. */
  addProcessor(node: Omit<ProcessorSpec, 'kind'>): ProcessorSpec;
  /** Adds a pass-through child of `parent`, named `<parent>-<suffix>`, that `parent` forwards to by name. */
  branch(parent: string, suffix: string): string;
  /** The stream of a node's output. */
  stream<K2, V2>(node: string, serdes: KnownSerdes<K2, V2>, keyChanged?: boolean): Stream<K2, V2>;
  /** True when the node reads topics directly (a source). */
  isSource(node: string): boolean;
  /** Adds a route to the interactive-query server of every instance (see `RouteSpec`). */
  addRoute(route: RouteSpec): void;
  /**
   * What an extension keeps once per topology under `key` (such as the one route all its
   * operators share), made by `create` the first time it is asked for.
   */
  shared<T>(key: symbol, create: () => T): T;
}
