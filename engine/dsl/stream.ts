import type { RecordHeader } from '../kafka/records.ts';
import { filter } from '../processors/filter.ts';
import { flatMapValues } from '../processors/flat-map-values.ts';
import { flatMap } from '../processors/flat-map.ts';
import { mapValues } from '../processors/map-values.ts';
import { map, type KeyValue } from '../processors/map.ts';
import { passthrough } from '../processors/passthrough.ts';
import { project, type Projector } from '../processors/project.ts';
import { synchronous, synchronousProcessor, type Synchronous } from '../processors/synchronous.ts';
import { peek } from '../processors/peek.ts';
import type { ProcessorSupplier, RecordContext } from '../processors/processor.ts';
import { selectKey } from '../processors/select-key.ts';
import { dedupe, type GateRoutes, versionGate } from '../processors/gates.ts';
import { prioritize, type PriorityFunction } from '../processors/prioritize.ts';
import { batch, type Batch, type DependencySettings } from '../processors/batch.ts';
import { heldRecordSerde } from '../processors/held-records.ts';
import { detectConflicts, type EffectiveMutation, type MutationStatus, type StoredConflict } from '../processors/detect-conflicts.ts';
import { Serdes } from '../serde/serde.ts';
import { ConfigError, TopologyError } from '../errors.ts';
import { type FailedWrite, postgresSink, quoteIdentifier } from '../sinks/postgres/postgres-sink.ts';
import { withHeaders } from '../processors/with-headers.ts';
import type { Serde } from '../serde/serde.ts';
import type { LogicalGraph, StoreSpec, TopicChooser } from './graph.ts';
import { GroupedStream } from './grouped-stream.ts';
import { Table } from './table.ts';
import { guardOperators } from './operator-guard.ts';
import { Splitter } from './splitter.ts';
import type {
  BatchOptions,
  DedupeOptions,
  DetectConflictsOptions,
  KnownSerdes,
  Named,
  OperatorOptions,
  PostgresSinkOptions,
  PrioritizeOptions,
  ProcessOptions,
  ProjectOptions,
  RepartitionOptions,
  ToOptions,
  VersionGateOptions,
} from './stream-options.ts';



const STREAM_OPERATORS = [
  'filter',
  'filterNot',
  'map',
  'mapValues',
  'flatMap',
  'flatMapValues',
  'selectKey',
  'peek',
  'withHeaders',
  'process',
  'dedupe',
  'versionGate',
  'detectConflicts',
  'toPostgres',
  'project',
  'prioritize',
  'batch',
  'split',
  'merge',
  'repartition',
  'groupByKey',
  'groupBy',
  'to',
] as const;

/**
 * A record stream: the typed DSL over the logical graph, as Kafka Streams' `KStream`.
 * Operators only record nodes; nothing runs until the application starts.
 *
 * Predicates and mappers that look at the whole record get `(key, value, context)`;
 * `mapValues` and `flatMapValues` get `(value, key, context)`. The context carries topic,
 * partition, offset, timestamp and headers.
 *
 * @example
 * ```ts
 * builder.stream('orders', { key: Serdes.string(), value: Serdes.json<Order>() })
 *   .filter((_, order) => order.total > 0)
 *   .mapValues((order) => ({ ...order, vat: order.total * 0.2 }))
 *   .to('priced-orders', { value: Serdes.json() });
 * ```
 */
export class Stream<K, V> {
  /** The node whose output this stream is. */
  readonly node: string;
  private readonly graph: LogicalGraph;
  private readonly serdes: KnownSerdes<K, V>;
  /** True once an operator may have changed keys: grouping then needs a repartition. */
  private readonly keyChanged: boolean;

  /** @internal Streams come from `StreamsBuilder.stream` and from operators. */
  constructor(graph: LogicalGraph, node: string, serdes: KnownSerdes<K, V>, keyChanged = false) {
    this.graph = graph;
    this.node = node;
    this.serdes = serdes;
    this.keyChanged = keyChanged;
    return guardOperators(this, 'stream', node, STREAM_OPERATORS);
  }

  /** Keeps the records `predicate` accepts; a type guard narrows the value type. */
  filter<S extends V>(predicate: (key: K, value: V, context: RecordContext) => value is S, options?: OperatorOptions): Stream<K, S>;
  filter(predicate: (key: K, value: V, context: RecordContext) => boolean, options?: OperatorOptions): Stream<K, V>;
  filter(predicate: (key: K, value: V, context: RecordContext) => boolean, options?: OperatorOptions): Stream<K, V> {
    return this.then('KSTREAM-FILTER', 'filter', filter(predicate), options, this.serdes);
  }

  /** Drops the records `predicate` accepts; a type guard removes that type. */
  filterNot<S extends V>(
    predicate: (key: K, value: V, context: RecordContext) => value is S,
    options?: OperatorOptions,
  ): Stream<K, Exclude<V, S>>;
  filterNot(predicate: (key: K, value: V, context: RecordContext) => boolean, options?: OperatorOptions): Stream<K, V>;
  filterNot(predicate: (key: K, value: V, context: RecordContext) => boolean, options?: OperatorOptions): Stream<K, V> {
    return this.then('KSTREAM-FILTER', 'filterNot', filter(predicate, true), options, this.serdes);
  }

  /** A new key and value per record, returned as `[key, value]`. */
  map<K2, V2>(mapper: (key: K, value: V, context: RecordContext) => KeyValue<K2, V2>, options?: OperatorOptions): Stream<K2, V2> {
    return this.then('KSTREAM-MAP', 'map', map(mapper), options, {}, true);
  }

  /** A new value per record; the key stays. */
  mapValues<V2>(mapper: (value: V, key: K, context: RecordContext) => Synchronous<V2>, options?: OperatorOptions): Stream<K, V2> {
    return this.then('KSTREAM-MAPVALUES', 'mapValues', mapValues(mapper), options, { key: this.serdes.key });
  }

  /** Zero or more `[key, value]` pairs per record. */
  flatMap<K2, V2>(
    mapper: (key: K, value: V, context: RecordContext) => Iterable<KeyValue<K2, V2>>,
    options?: OperatorOptions,
  ): Stream<K2, V2> {
    return this.then('KSTREAM-FLATMAP', 'flatMap', flatMap(mapper), options, {}, true);
  }

  /** Zero or more values per record, under its key. */
  flatMapValues<V2>(mapper: (value: V, key: K, context: RecordContext) => Iterable<V2>, options?: OperatorOptions): Stream<K, V2> {
    return this.then('KSTREAM-FLATMAPVALUES', 'flatMapValues', flatMapValues(mapper), options, { key: this.serdes.key });
  }

  /** A new key per record; follow with `repartition()` to place records by it. */
  selectKey<K2>(selector: (key: K, value: V, context: RecordContext) => Synchronous<K2>, options?: OperatorOptions): Stream<K2, V> {
    return this.then('KSTREAM-KEY-SELECT', 'selectKey', selectKey(selector), options, { value: this.serdes.value }, true);
  }

  /** Runs `action` on each record (logging, metrics) and passes it on unchanged. */
  peek<R>(action: (key: K, value: V, context: RecordContext) => Synchronous<R>, options?: OperatorOptions): Stream<K, V> {
    return this.then('KSTREAM-PEEK', 'peek', peek(action), options, this.serdes);
  }

  /** Replaces the headers of the records passed on (sibling branches keep theirs). */
  withHeaders(
    compute: (key: K, value: V, context: RecordContext) => RecordHeader[] | undefined,
    options?: OperatorOptions,
  ): Stream<K, V> {
    return this.then('KSTREAM-HEADERS', 'withHeaders', withHeaders(compute), options, this.serdes);
  }

  /**
   * A custom processor (see {@link ProcessorSupplier}); its output types are yours to state. It
   * may use stores declared with `builder.addStateStore`, named in `stores`. Its per-record
   * function is synchronous: one that returns a promise is refused with an `AsyncCallbackError`.
   */
  process<K2 = K, V2 = V>(supplier: ProcessorSupplier, options?: ProcessOptions): Stream<K2, V2> {
    const stream = this.then<K2, V2>('KSTREAM-PROCESSOR', 'process', synchronousProcessor(supplier), options, {}, true);
    for (const store of options?.stores ?? []) this.graph.connectStore(stream.node, store);
    return stream;
  }

  /**
   * Drops (or, with `onDuplicate`, routes) a record whose id was already seen within `ttlMs` of
   * stream time. The ids live in a store with a TTL and a changelog, so a restart or a moved task
   * remembers them. Duplicates must share a partition: key records by what they are about.
   */
  dedupe(options: DedupeOptions<K, V>): Stream<K, V> {
    const { store, id, ttlMs, onDuplicate } = options;
    return this.gate('KSTREAM-DEDUPE', 'dedupe', options, { name: store, keySerde: Serdes.string() as Serde<unknown>, valueSerde: Serdes.json<number>() as Serde<unknown>, ttlMs, partitionedByKey: false }, onDuplicate, (routes) =>
      dedupe(store, id as never, routes),
    );
  }

  /**
   * Passes a record only when its version is newer than the last that passed for its key;
   * older and equal versions are dropped (or, with `onStale`, routed), so redelivery and
   * reordering never roll a read model back.
   */
  versionGate(options: VersionGateOptions<K, V>): Stream<K, V> {
    const { store, version, onStale } = options;
    return this.gate('KSTREAM-VERSIONGATE', 'versionGate', options, { name: store, keySerde: this.serdes.key as Serde<unknown> | undefined, valueSerde: Serdes.json<number>() as Serde<unknown>, partitionedByKey: true }, onStale, (routes) =>
      versionGate(store, version as never, routes),
    );
  }

  /**
   * Detects conflicts between mutations (docs/scenarios.md's model, keyed `entity_type:entity_id`)
   * and resolves them with the strategy; see `engine/mutations/conflicts.ts`. Returns what goes on
   * to be applied, the statuses it decides (CONFLICT, REJECTED) and the conflicts it opens.
   */
  detectConflicts(options: DetectConflictsOptions<K>): { applied: Stream<K, EffectiveMutation>; statuses: Stream<K, MutationStatus>; conflicts: Stream<K, StoredConflict> } {
    const name = this.graph.nameFor('KSTREAM-DETECTCONFLICTS', options.name);
    if (this.keyChanged) throw new TopologyError(name, 'detectConflicts keeps state per entity key, and an operator upstream may have changed the keys: add .repartition() before it.');
    const json = Serdes.json() as Serde<unknown>;
    this.graph.addStore({ name: options.entities, keySerde: this.serdes.key as Serde<unknown> | undefined, valueSerde: json, partitionedByKey: true }, name);
    const fromSource = options.resolutions && this.graph.nodes.find((n) => n.name === options.resolutions!.node)?.kind === 'source';
    this.graph.addStore({ name: options.openConflicts, keySerde: Serdes.string() as Serde<unknown>, valueSerde: json, partitionedByKey: false, ...(fromSource ? { resolutionsFrom: options.resolutions!.node } : {}) }, name);
    const parents = options.resolutions ? [this.node, options.resolutions.node] : [this.node];
    const node = this.graph.add({ kind: 'processor', name, operator: 'detectConflicts', parents, supplier: passthrough, stores: [options.entities, options.openConflicts] });
    const routes = { applied: this.branchOf(name, 'applied'), statuses: this.branchOf(name, 'statuses'), conflicts: this.branchOf(name, 'conflicts') };
    node.supplier = detectConflicts(options.entities, options.openConflicts, options.strategy ?? 'last-writer-wins', routes);
    const serdes = { key: this.serdes.key, value: Serdes.json() };
    return {
      applied: new Stream<K, EffectiveMutation>(this.graph, routes.applied, serdes as KnownSerdes<K, EffectiveMutation>),
      statuses: new Stream<K, MutationStatus>(this.graph, routes.statuses, serdes as KnownSerdes<K, MutationStatus>),
      conflicts: new Stream<K, StoredConflict>(this.graph, routes.conflicts, serdes as KnownSerdes<K, StoredConflict>),
    };
  }

  /**
   * An event-sourced read model (a projection) per key: each event is folded into the key's view
   * with `apply`; the views are a table in `store`, which interactive queries read. With
   * `version`, events that do not fit the view (optimistic concurrency) are rejected. Rebuilt
   * from the log (after `sluice reset`), it gives the same views.
   */
  project<S>(options: ProjectOptions<K, V, S>): Table<K, S> {
    const name = this.graph.nameFor('KSTREAM-PROJECT', options.name);
    if (this.keyChanged) throw new TopologyError(name, 'project keeps a view per key, and an operator upstream may have changed the keys: add .repartition() before it.');
    if (typeof options.apply !== 'function') throw new TopologyError(name, 'project needs an apply(view, event, key) function.');
    const store = this.graph.addStore({ name: options.store, keySerde: this.serdes.key as Serde<unknown> | undefined, valueSerde: (options.value ?? Serdes.json()) as Serde<unknown>, caching: options.caching, partitionedByKey: true }, name).name;
    const node = this.graph.add({ kind: 'processor', name, operator: 'project', parents: [this.node], supplier: passthrough, stores: [store] });
    const reject = options.onRejected ? this.branchOf(name, 'rejected') : undefined;
    node.supplier = project(store, options.apply as Projector<K, V, S>, options.version, reject);
    if (options.onRejected && reject) options.onRejected(new Stream<K, V>(this.graph, reject, this.serdes));
    return new Table<K, S>(this.graph, name, { key: this.serdes.key, value: options.value ?? (Serdes.json() as Serde<S>) }, store);
  }

  /**
   * Writes each record to PostgreSQL in a transaction of its own, with the position after it
   * kept in the same transaction, so no record is written twice or lost, whatever the guarantee
   * (see `engine/sinks/postgres/postgres-sink.ts`). Writes happen at commit; while the
   * database is away, processing pauses and retries. Returns the records written (after their
   * transaction committed) and those that failed for good (also sent to the operator's
   * dead-letter topic, if `onError` names one). The sink reads a topic directly: when the
   * stream does not come straight from one, it goes through a repartition topic first.
   */
  toPostgres(options: PostgresSinkOptions<K, V>): { applied: Stream<K, V>; failed: Stream<K, FailedWrite<V>> } {
    const name = this.graph.nameFor('KSTREAM-POSTGRES', options.name);
    if (typeof options.write !== 'function') throw new TopologyError(name, 'toPostgres needs a write(tx, key, value) function.');
    const maxPending = options.maxPending ?? 100;
    const poolSize = options.poolSize ?? 4;
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new TopologyError(name, 'maxPending must be a positive integer.');
    if (!Number.isInteger(poolSize) || poolSize < 1) throw new TopologyError(name, 'poolSize must be a positive integer.');
    const direct = this.graph.nodes.find((n) => n.name === this.node)?.kind === 'source';
    const input = direct ? this : this.repartition({ name: `${name}-input` });
    const node = this.graph.add({ kind: 'processor', name, operator: 'toPostgres', parents: [input.node], supplier: passthrough, onError: options.onError });
    const routes = { applied: this.branchOf(name, 'applied'), failed: this.branchOf(name, 'failed') };
    const offsetsTable = options.offsetsTable ?? 'sluice_sink_offsets';
    try {
      quoteIdentifier(offsetsTable);
    } catch (err) {
      throw new TopologyError(name, `offsetsTable: ${(err as Error).message}.`);
    }
    const supplier: ProcessorSupplier = (init) => {
      const connectionString = options.connectionString ?? process.env.DATABASE_URL;
      if (!connectionString) throw new ConfigError(`toPostgres "${name}" has no database: set DATABASE_URL or give connectionString.`);
      return postgresSink({ sink: name, connectionString, write: options.write, setup: options.setup, onWritten: options.onWritten, offsetsTable, maxPending, poolSize, routes })(init);
    };
    node.supplier = supplier;
    return {
      applied: new Stream<K, V>(this.graph, routes.applied, input.serdes),
      failed: new Stream<K, FailedWrite<V>>(this.graph, routes.failed, { key: input.serdes.key, value: Serdes.json() as Serde<FailedWrite<V>> }),
    };
  }

  /**
   * Holds records and sends them on ranked by `priority`, best first: every `windowMs` of the
   * machine's clock everything held goes out, and beyond `maxBuffered` the best go at once. Only
   * the oldest held record of a key is eligible, so a key's records keep their order. Held
   * records live in `store` (with a changelog), so a restart loses and repeats nothing.
   */
  prioritize(options: PrioritizeOptions<K, V>): Stream<K, V> {
    const name = this.graph.nameFor('KSTREAM-PRIORITIZE', options.name);
    positive(name, 'maxBuffered', options.maxBuffered, true);
    positive(name, 'windowMs', options.windowMs);
    if (typeof options.priority !== 'function') throw new TopologyError(name, 'priority must be a function (key, value, ageMs, now) => number, e.g. mutationPriority().');
    this.graph.addStore({ name: options.store, keySerde: Serdes.sortableNumber() as Serde<unknown>, valueSerde: heldRecordSerde() as Serde<unknown>, preload: true, partitionedByKey: false }, name);
    const { store, maxBuffered, windowMs, priority } = options;
    this.graph.add({ kind: 'processor', name, operator: 'prioritize', parents: [this.node], supplier: prioritize({ store, maxBuffered, windowMs, priority: priority as PriorityFunction }), onError: options.onError, stores: [store] });
    return new Stream<K, V>(this.graph, name, this.serdes, this.keyChanged);
  }

  /**
   * Groups records into batches, sent on as one record each (a {@link Batch}, keyed by its first
   * record's key), closed at `maxSize` records, `maxBytes`, or `lingerMs` after the first. With
   * `id` and `dependsOn`, a record enters a batch only after the records it depends on; ones
   * that wait longer than `dependencyTimeoutMs` go to `onMissingDependency`. Dependencies are
   * resolved within a partition: records that depend on each other must share one.
   */
  batch(options: BatchOptions<K, V>): Stream<K, Batch<K, V>> {
    const name = this.graph.nameFor('KSTREAM-BATCH', options.name);
    positive(name, 'maxSize', options.maxSize, true);
    if (options.maxBytes !== undefined) positive(name, 'maxBytes', options.maxBytes, true);
    positive(name, 'lingerMs', options.lingerMs);
    const { store, id, dependsOn, onMissingDependency } = options;
    let dependencies: DependencySettings | undefined;
    if ((id === undefined) !== (dependsOn === undefined)) throw new TopologyError(name, 'dependencies need both id and dependsOn (the ids records name and the ids each record needs); give both or neither.');
    if (id !== undefined && dependsOn !== undefined) {
      if (typeof id !== 'function' || typeof dependsOn !== 'function') throw new TopologyError(name, 'id and dependsOn must be functions of (value, key).');
      if (options.releasedTtlMs === undefined) throw new TopologyError(name, 'with dependsOn, releasedTtlMs is required: how long (stream time) released ids are remembered for records that arrive later.');
      positive(name, 'releasedTtlMs', options.releasedTtlMs);
      const timeoutMs = options.dependencyTimeoutMs ?? 30_000;
      positive(name, 'dependencyTimeoutMs', timeoutMs);
      dependencies = { store: options.releasedStore ?? `${String(store)}-released`, id: id as DependencySettings['id'], dependsOn: dependsOn as DependencySettings['dependsOn'], timeoutMs };
    } else if (onMissingDependency || options.dependencyTimeoutMs !== undefined || options.releasedStore !== undefined || options.releasedTtlMs !== undefined) {
      throw new TopologyError(name, 'onMissingDependency, dependencyTimeoutMs, releasedStore and releasedTtlMs apply to dependencies: give id and dependsOn too.');
    }
    this.graph.addStore({ name: store, keySerde: Serdes.sortableNumber() as Serde<unknown>, valueSerde: heldRecordSerde() as Serde<unknown>, preload: true, partitionedByKey: false }, name);
    if (dependencies) this.graph.addStore({ name: dependencies.store, keySerde: Serdes.string() as Serde<unknown>, valueSerde: Serdes.json<number>() as Serde<unknown>, ttlMs: options.releasedTtlMs, partitionedByKey: false }, name);
    const stores = dependencies ? [store, dependencies.store] : [store];
    const node = this.graph.add({ kind: 'processor', name, operator: 'batch', parents: [this.node], supplier: passthrough, onError: options.onError, stores });
    const routes = { batches: this.branchOf(name, 'batches'), missing: onMissingDependency ? this.branchOf(name, 'missing') : undefined };
    node.supplier = batch({ store, maxSize: options.maxSize, maxBytes: options.maxBytes ?? Number.POSITIVE_INFINITY, lingerMs: options.lingerMs, closeOnCommit: options.closeOnCommit ?? false, dependencies }, routes);
    if (onMissingDependency) onMissingDependency(new Stream<K, V>(this.graph, routes.missing!, this.serdes, this.keyChanged));
    return new Stream<K, Batch<K, V>>(this.graph, routes.batches, { key: this.serdes.key, value: Serdes.json<Batch<K, V>>() }, this.keyChanged);
  }

  /** A pass-through child of `parent` that an operator routes to by name. */
  private branchOf(parent: string, suffix: string): string {
    const child = this.graph.nameFor('KSTREAM-BRANCHCHILD', `${parent}-${suffix}`);
    this.graph.add({ kind: 'processor', name: child, operator: 'branch', parents: [parent], supplier: passthrough });
    return child;
  }

  /** A stateful filter with a store, whose passing records continue and whose rejects may be wired. */
  private gate(prefix: string, operator: string, options: OperatorOptions, store: StoreSpec, onReject: ((rejected: Stream<K, V>) => void) | undefined, supplier: (routes: GateRoutes) => ProcessorSupplier): Stream<K, V> {
    const name = this.graph.nameFor(prefix, options.name);
    if (this.keyChanged) {
      throw new TopologyError(name, `${operator} keeps state per partition, and an operator upstream may have changed the keys: add .repartition() before it.`);
    }
    this.graph.addStore(store, name);
    const node = this.graph.add({ kind: 'processor', name, operator, parents: [this.node], supplier: passthrough, onError: options.onError, stores: [store.name] });
    const pass = this.branchOf(name, 'pass');
    const reject = onReject ? this.branchOf(name, 'reject') : undefined;
    node.supplier = supplier({ pass, reject });
    if (onReject) onReject(new Stream<K, V>(this.graph, reject!, this.serdes));
    return new Stream<K, V>(this.graph, pass, this.serdes);
  }

  /** Routes each record to the first matching branch: `.split().branch(...).defaultBranch()`. */
  split(options?: Named): Splitter<K, V, object> {
    return new Splitter<K, V, object>(this.graph, this.node, options?.name, this.serdes);
  }

  /**
   * One stream with the records of both, each stream's order kept; its values are of either
   * type (`Stream<K, V | V2>`). It keeps a serde the two streams share (or the one only one of
   * them knows); when they have different ones, give the serde where it is needed (`to`).
   */
  merge<V2>(other: Stream<K, V2>, options?: Named): Stream<K, V | V2> {
    const name = this.graph.nameFor('KSTREAM-MERGE', options?.name);
    this.graph.add({ kind: 'processor', name, operator: 'merge', parents: [this.node, other.node], supplier: passthrough });
    const serdes: KnownSerdes<K, V | V2> = {
      key: shared(this.serdes.key, other.serdes.key),
      value: shared<V | V2>(this.serdes.value, other.serdes.value),
    };
    return new Stream<K, V | V2>(this.graph, name, serdes, this.keyChanged || other.keyChanged);
  }

  /**
   * Sends the records through an internal topic, `<application.id>-<name>-repartition`, placed
   * by key, and reads them back in a new sub-topology. Records of one key keep their order.
   */
  repartition(options: RepartitionOptions<K, V> = {}): Stream<K, V> {
    const name = this.graph.nameFor('KSTREAM-REPARTITION', options.name);
    const key = options.key ?? this.serdes.key;
    const value = options.value ?? this.serdes.value;
    this.graph.add({
      kind: 'repartition',
      name,
      parents: [this.node],
      topic: name,
      partitions: options.partitions,
      keySerde: key as Serde<unknown> | undefined,
      valueSerde: value as Serde<unknown> | undefined,
    });
    return new Stream<K, V>(this.graph, name, { key, value });
  }

  /** Writes the records to a topic, or to the topic `chooser` names for each record. */
  to(topic: string | TopicChooser<K, V>, options: ToOptions<K, V> = {}): void {
    const name = this.graph.nameFor('KSTREAM-SINK', options.name);
    const chooser = topic as string | TopicChooser;
    this.graph.add({
      kind: 'sink',
      name,
      parents: [this.node],
      topic: typeof chooser === 'function' ? (key, value, context) => synchronous(chooser(key, value, context), name, 'topic chooser') : chooser,
      keySerde: (options.key ?? this.serdes.key) as Serde<unknown> | undefined,
      valueSerde: (options.value ?? this.serdes.value) as Serde<unknown> | undefined,
      onError: options.onError,
    });
  }

  /** Groups by the current key (through a repartition topic if an operator changed keys). */
  groupByKey(options: { key?: Serde<K>; value?: Serde<V> } = {}): GroupedStream<K, V> {
    return new GroupedStream<K, V>(this.graph, this.node, { key: options.key ?? this.serdes.key, value: options.value ?? this.serdes.value }, this.keyChanged);
  }

  /** Groups by a new key; records go through a repartition topic before they are aggregated. */
  groupBy<K2>(selector: (key: K, value: V, context: RecordContext) => Synchronous<K2>, options: Named & { key?: Serde<K2>; value?: Serde<V> } = {}): GroupedStream<K2, V> {
    const rekeyed = this.selectKey<K2>(selector, { name: options.name });
    return new GroupedStream<K2, V>(this.graph, rekeyed.node, { key: options.key, value: options.value ?? this.serdes.value }, true);
  }

  private then<K2, V2>(
    prefix: string,
    operator: string,
    supplier: ProcessorSupplier,
    options: OperatorOptions | undefined,
    serdes: KnownSerdes<K2, V2>,
    changesKeys = false,
  ): Stream<K2, V2> {
    const name = this.graph.nameFor(prefix, options?.name);
    this.graph.add({ kind: 'processor', name, operator, parents: [this.node], supplier, onError: options?.onError });
    return new Stream<K2, V2>(this.graph, name, serdes, this.keyChanged || changesKeys);
  }
}

/** The serde of two merged streams: one both have (the same, or of the same name), else undefined. */
function shared<T>(a: Serde<T> | undefined, b: Serde<T> | undefined): Serde<T> | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return a === b || a.name === b.name ? a : undefined;
}

/** Checks a size or duration option: a positive number (an integer for counts). */
function positive(operator: string, option: string, value: unknown, integer = false): void {
  const valid = typeof value === 'number' && value > 0 && (integer ? Number.isSafeInteger(value) : Number.isFinite(value));
  if (!valid) throw new TopologyError(operator, `${option} must be a positive ${integer ? 'whole number' : 'number'}; got ${String(value)}.`);
}
