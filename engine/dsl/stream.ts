import { describeCause, TopologyError } from '../errors.ts';
import { batch, type Batch, type DependencySettings } from '../processors/batch.ts';
import { filter } from '../processors/filter.ts';
import { flatMapValues } from '../processors/flat-map-values.ts';
import { flatMap } from '../processors/flat-map.ts';
import { dedupe, type GateRoutes, versionGate } from '../processors/gates.ts';
import { heldRecordSerde } from '../processors/held-records.ts';
import { mapValues } from '../processors/map-values.ts';
import { map, type KeyValue } from '../processors/map.ts';
import { passthrough } from '../processors/passthrough.ts';
import { peek } from '../processors/peek.ts';
import { prioritize, type PriorityFunction } from '../processors/prioritize.ts';
import { untyped, type ProcessorSupplier, type RecordContext, type RecordHeader } from '../processors/processor.ts';
import { project, type Projector } from '../processors/project.ts';
import { selectKey } from '../processors/select-key.ts';
import { sinkProcessor, type FailedWrite, type Sink } from '../processors/sink.ts';
import { synchronous, synchronousProcessor, type Synchronous } from '../processors/synchronous.ts';
import { withHeaders } from '../processors/with-headers.ts';
import { Serdes, type Serde } from '../serde/serde.ts';
import type { BatchOptions, DedupeOptions, GlobalTable, GroupedStream, OperatorScope, ProjectOptions, SinkStreams, Splitter, Stream, StreamOperator, Table, VersionGateOptions } from './api.ts';
import { requireFunction, requireTopic } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import type { StoreSpec, TopicChooser } from './graph.ts';
import { guardOperators } from './operator-guard.ts';
import { joinStreamTable } from './joins.ts';
import { isGlobalTable } from './global-table.ts';
import { joinGlobalTable, type GlobalJoiner } from './global-joins.ts';
import type { GlobalKeySelector } from '../processors/stream-global-join.ts';
import { joinStreams, type StreamJoinKind } from './stream-joins.ts';
import type { StreamJoiner } from '../processors/stream-join/stream-stream-join.ts';
import type { JoinWindows } from '../processors/windows/join-windows.ts';
import type { AsyncOptions, JoinOptions, StreamJoinOptions, KnownSerdes, Named, OperatorOptions, PrioritizeOptions, ProcessOptions, RepartitionOptions, ToOptions } from './stream-options.ts';
import { addAsyncOperator } from './async-stream.ts';
import type { AsyncCallContext } from '../processors/async/async-options.ts';
import type { AsyncKind } from '../processors/async/async-operators.ts';

const STREAM_OPERATORS = [
  'filter',
  'filterNot',
  'map',
  'mapValues',
  'flatMap',
  'flatMapValues',
  'mapValuesAsync',
  'mapAsync',
  'flatMapAsync',
  'filterAsync',
  'forEachAsync',
  'selectKey',
  'peek',
  'withHeaders',
  'process',
  'dedupe',
  'versionGate',
  'project',
  'sink',
  'via',
  'prioritize',
  'batch',
  'split',
  'merge',
  'repartition',
  'join',
  'leftJoin',
  'outerJoin',
  'groupByKey',
  'groupBy',
  'to',
] as const;

/**
 * The {@link Stream} the DSL hands out: each operator records nodes (and stores) into the logical
 * graph and returns the stream, table or grouped stream of their output. See api.ts for what
 * each operator does.
 */
export class GraphStream<K, V> implements Stream<K, V> {
  readonly node: string;
  private readonly dsl: DslContext;
  private readonly serdes: KnownSerdes<K, V>;
  /** True once an operator may have changed keys: grouping then needs a repartition. */
  private readonly keyChanged: boolean;

  /** @internal Streams come from `StreamsBuilder.stream` and from operators. */
  constructor(dsl: DslContext, node: string, serdes: KnownSerdes<K, V>, keyChanged = false) {
    this.dsl = dsl;
    this.node = node;
    this.serdes = serdes;
    this.keyChanged = keyChanged;
    return guardOperators(this, 'stream', node, STREAM_OPERATORS);
  }

  filter<S extends V>(predicate: (key: K, value: V, context: RecordContext) => boolean, options?: OperatorOptions): Stream<K, S> {
    return this.addOperator('KSTREAM-FILTER', 'filter', filter(predicate), options, this.serdes as KnownSerdes<K, S>, false, ['predicate', predicate]);
  }

  filterNot<S extends V>(predicate: (key: K, value: V, context: RecordContext) => boolean, options?: OperatorOptions): Stream<K, Exclude<V, S>> {
    return this.addOperator('KSTREAM-FILTER', 'filterNot', filter(predicate, true), options, this.serdes as KnownSerdes<K, Exclude<V, S>>, false, ['predicate', predicate]);
  }

  map<K2, V2>(mapper: (key: K, value: V, context: RecordContext) => KeyValue<K2, V2>, options?: OperatorOptions): Stream<K2, V2> {
    return this.addOperator('KSTREAM-MAP', 'map', map(mapper), options, {}, true, ['mapper', mapper]);
  }

  mapValues<V2>(mapper: (value: V, key: K, context: RecordContext) => Synchronous<V2>, options?: OperatorOptions): Stream<K, V2> {
    return this.addOperator('KSTREAM-MAPVALUES', 'mapValues', mapValues(mapper), options, { key: this.serdes.key }, false, ['mapper', mapper]);
  }

  flatMap<K2, V2>(mapper: (key: K, value: V, context: RecordContext) => Iterable<KeyValue<K2, V2>>, options?: OperatorOptions): Stream<K2, V2> {
    return this.addOperator('KSTREAM-FLATMAP', 'flatMap', flatMap(mapper), options, {}, true, ['mapper', mapper]);
  }

  flatMapValues<V2>(mapper: (value: V, key: K, context: RecordContext) => Iterable<V2>, options?: OperatorOptions): Stream<K, V2> {
    return this.addOperator('KSTREAM-FLATMAPVALUES', 'flatMapValues', flatMapValues(mapper), options, { key: this.serdes.key }, false, ['mapper', mapper]);
  }

  mapValuesAsync<V2>(mapper: (value: V, key: K, context: AsyncCallContext) => Promise<V2>, options?: AsyncOptions): Stream<K, V2> {
    return this.async<K, V2>('mapValuesAsync', mapper, options, 'KSTREAM-MAPVALUES-ASYNC');
  }

  mapAsync<K2, V2>(mapper: (key: K, value: V, context: AsyncCallContext) => Promise<KeyValue<K2, V2>>, options?: AsyncOptions): Stream<K2, V2> {
    return this.async<K2, V2>('mapAsync', mapper, options, 'KSTREAM-MAP-ASYNC');
  }

  flatMapAsync<K2, V2>(mapper: (key: K, value: V, context: AsyncCallContext) => Promise<Iterable<KeyValue<K2, V2>>>, options?: AsyncOptions): Stream<K2, V2> {
    return this.async<K2, V2>('flatMapAsync', mapper, options, 'KSTREAM-FLATMAP-ASYNC');
  }

  filterAsync(predicate: (key: K, value: V, context: AsyncCallContext) => Promise<boolean>, options?: AsyncOptions): Stream<K, V> {
    return this.async<K, V>('filterAsync', predicate, options, 'KSTREAM-FILTER-ASYNC');
  }

  forEachAsync(action: (key: K, value: V, context: AsyncCallContext) => Promise<unknown>, options?: AsyncOptions): void {
    this.async('forEachAsync', action, options, 'KSTREAM-FOREACH-ASYNC');
  }

  /** Records an async operator (see async-stream.ts). */
  private async<K2, V2>(kind: AsyncKind, call: unknown, options: AsyncOptions | undefined, prefix: string): Stream<K2, V2> {
    const input = { node: this.node, serdes: this.serdes, keyChanged: this.keyChanged, repartition: (o: { name: string }) => this.repartition(o) };
    return addAsyncOperator<K, V, K2, V2>(this.dsl, input, kind, call, options, prefix).stream;
  }

  selectKey<K2>(selector: (key: K, value: V, context: RecordContext) => Synchronous<K2>, options?: OperatorOptions): Stream<K2, V> {
    return this.addOperator('KSTREAM-KEY-SELECT', 'selectKey', selectKey(selector), options, { value: this.serdes.value }, true, ['key selector', selector]);
  }

  peek<R>(action: (key: K, value: V, context: RecordContext) => Synchronous<R>, options?: OperatorOptions): Stream<K, V> {
    return this.addOperator('KSTREAM-PEEK', 'peek', peek(action), options, this.serdes, false, ['action', action]);
  }

  withHeaders(compute: (key: K, value: V, context: RecordContext) => RecordHeader[] | undefined, options?: OperatorOptions): Stream<K, V> {
    return this.addOperator('KSTREAM-HEADERS', 'withHeaders', withHeaders(compute), options, this.serdes, false, ['header function', compute]);
  }

  process<K2 = K, V2 = V>(supplier: ProcessorSupplier<K, V, K2, V2>, options?: ProcessOptions): Stream<K2, V2> {
    const stream = this.addOperator<K2, V2>('KSTREAM-PROCESSOR', 'process', synchronousProcessor(supplier), options, {}, true, ['processor supplier', supplier]);
    for (const store of options?.stores ?? []) this.dsl.graph.connectStore(stream.node, store);
    return stream;
  }

  dedupe(options: DedupeOptions<K, V>): Stream<K, V> {
    const { store, id, ttlMs, onDuplicate } = options;
    const ids: StoreSpec = { name: store, keySerde: Serdes.string() as Serde<unknown>, valueSerde: Serdes.json<number>() as Serde<unknown>, ttlMs, partitionedByKey: false };
    return this.gate('KSTREAM-DEDUPE', 'dedupe', options, ids, onDuplicate, (routes) => dedupe(store, id as never, routes), ['id function', id]);
  }

  versionGate(options: VersionGateOptions<K, V>): Stream<K, V> {
    const { store, version, onStale } = options;
    const versions: StoreSpec = { name: store, keySerde: this.serdes.key as Serde<unknown> | undefined, valueSerde: Serdes.json<number>() as Serde<unknown>, partitionedByKey: true };
    return this.gate('KSTREAM-VERSIONGATE', 'versionGate', options, versions, onStale, (routes) => versionGate(store, version as never, routes), ['version function', version]);
  }

  project<S>(options: ProjectOptions<K, V, S>): Table<K, S> {
    const { graph } = this.dsl;
    const name = graph.nameFor('KSTREAM-PROJECT', options.name);
    if (this.keyChanged) throw new TopologyError(name, 'project keeps a view per key, and an operator upstream may have changed the keys: add .repartition() before it.');
    if (typeof options.apply !== 'function') throw new TopologyError(name, 'project needs an apply(view, event, key) function.');
    const valueSerde = options.value ?? (Serdes.json() as Serde<S>);
    const store = graph.addStore({ name: options.store, keySerde: this.serdes.key as Serde<unknown> | undefined, valueSerde: valueSerde as Serde<unknown>, caching: options.caching, partitionedByKey: true }, name).name;
    const node = graph.add({ kind: 'processor', name, operator: 'project', parents: [this.node], supplier: passthrough, stores: [store] });
    const reject = options.onRejected ? this.branchOf(name, 'rejected') : undefined;
    node.supplier = project(store, options.apply as Projector<K, V, S>, options.version, reject);
    if (options.onRejected && reject) options.onRejected(this.dsl.stream<K, V>(reject, this.serdes));
    return this.dsl.table<K, S>(name, { key: this.serdes.key, value: valueSerde }, store);
  }

  sink(sink: Sink<K, V>, options?: OperatorOptions): SinkStreams<K, V> {
    const kind = typeof sink?.kind === 'string' && /^[a-z][a-z0-9-]*$/.test(sink.kind) ? sink.kind : undefined;
    const name = this.dsl.graph.nameFor(`KSTREAM-${(kind ?? 'sink').toUpperCase()}`, options?.name);
    if (kind === undefined || typeof sink.open !== 'function') {
      throw new TopologyError(name, 'sink() takes a Sink: an object with a kind (a lower-case word naming the system it writes to) and open(context); see docs/dsl.md.');
    }
    try {
      sink.check?.();
    } catch (err) {
      throw new TopologyError(name, describeCause(err), { cause: err });
    }
    // The sink keeps its position in its input topic's offsets: it must read a topic directly.
    const input = this.dsl.graph.node(this.node)?.kind === 'source' ? this : (this.repartition({ name: `${name}-input` }) as GraphStream<K, V>);
    const operator = `to${kind[0]!.toUpperCase()}${kind.slice(1)}`;
    const node = this.dsl.graph.add({ kind: 'processor', name, operator, parents: [input.node], supplier: passthrough, onError: options?.onError, external: true });
    const routes = { applied: this.branchOf(name, 'applied'), failed: this.branchOf(name, 'failed') };
    node.supplier = untyped(sinkProcessor(sink, routes));
    return {
      applied: this.dsl.stream<K, V>(routes.applied, input.serdes),
      failed: this.dsl.stream<K, FailedWrite<V>>(routes.failed, { key: input.serdes.key, value: Serdes.json() as Serde<FailedWrite<V>> }),
    };
  }

  via<R>(operator: StreamOperator<K, V, R>): R {
    if (typeof operator !== 'function') throw new TopologyError(this.node, `via() takes an operator, a function (stream, scope) => ...; got ${describeCause(operator)}.`);
    return operator(this, this.scope());
  }

  prioritize(options: PrioritizeOptions<K, V>): Stream<K, V> {
    const { graph } = this.dsl;
    const name = graph.nameFor('KSTREAM-PRIORITIZE', options.name);
    positive(name, 'maxBuffered', options.maxBuffered, true);
    positive(name, 'windowMs', options.windowMs);
    if (typeof options.priority !== 'function') throw new TopologyError(name, 'priority must be a function (key, value, ageMs, now) => number.');
    graph.addStore({ name: options.store, keySerde: Serdes.sortableNumber() as Serde<unknown>, valueSerde: heldRecordSerde() as Serde<unknown>, preload: true, partitionedByKey: false }, name);
    const { store, maxBuffered, windowMs, priority } = options;
    graph.add({ kind: 'processor', name, operator: 'prioritize', parents: [this.node], supplier: prioritize({ store, maxBuffered, windowMs, priority: priority as PriorityFunction }), onError: options.onError, stores: [store] });
    return this.dsl.stream<K, V>(name, this.serdes, this.keyChanged);
  }

  batch(options: BatchOptions<K, V>): Stream<K, Batch<K, V>> {
    const { graph } = this.dsl;
    const name = graph.nameFor('KSTREAM-BATCH', options.name);
    positive(name, 'maxSize', options.maxSize, true);
    if (options.maxBytes !== undefined) positive(name, 'maxBytes', options.maxBytes, true);
    positive(name, 'lingerMs', options.lingerMs);
    const { store, onMissingDependency } = options;
    const dependencies = dependencySettings(name, options);
    graph.addStore({ name: store, keySerde: Serdes.sortableNumber() as Serde<unknown>, valueSerde: heldRecordSerde() as Serde<unknown>, preload: true, partitionedByKey: false }, name);
    if (dependencies) graph.addStore({ name: dependencies.store, keySerde: Serdes.string() as Serde<unknown>, valueSerde: Serdes.json<number>() as Serde<unknown>, ttlMs: options.releasedTtlMs, partitionedByKey: false }, name);
    const stores = dependencies ? [store, dependencies.store] : [store];
    const node = graph.add({ kind: 'processor', name, operator: 'batch', parents: [this.node], supplier: passthrough, onError: options.onError, stores });
    const routes = { batches: this.branchOf(name, 'batches'), missing: onMissingDependency ? this.branchOf(name, 'missing') : undefined };
    node.supplier = batch({ store, maxSize: options.maxSize, maxBytes: options.maxBytes ?? Number.POSITIVE_INFINITY, lingerMs: options.lingerMs, closeOnCommit: options.closeOnCommit ?? false, dependencies }, routes);
    if (onMissingDependency) onMissingDependency(this.dsl.stream<K, V>(routes.missing!, this.serdes, this.keyChanged));
    return this.dsl.stream<K, Batch<K, V>>(routes.batches, { key: this.serdes.key, value: Serdes.json<Batch<K, V>>() }, this.keyChanged);
  }

  split(options?: Named): Splitter<K, V, object> {
    return this.dsl.splitter<K, V>(this.node, options?.name, this.serdes);
  }

  merge<V2>(other: Stream<K, V2>, options?: Named): Stream<K, V | V2> {
    const name = this.dsl.graph.nameFor('KSTREAM-MERGE', options?.name);
    const that = other as GraphStream<K, V2>;
    this.dsl.graph.add({ kind: 'processor', name, operator: 'merge', parents: [this.node, that.node], supplier: passthrough });
    const serdes: KnownSerdes<K, V | V2> = { key: shared(this.serdes.key, that.serdes.key), value: shared<V | V2>(this.serdes.value, that.serdes.value) };
    return this.dsl.stream<K, V | V2>(name, serdes, this.keyChanged || that.keyChanged);
  }

  repartition(options: RepartitionOptions<K, V> = {}): Stream<K, V> {
    const name = this.dsl.graph.nameFor('KSTREAM-REPARTITION', options.name);
    const key = options.key ?? this.serdes.key;
    const value = options.value ?? this.serdes.value;
    this.dsl.graph.add({ kind: 'repartition', name, parents: [this.node], topic: name, partitions: options.partitions, keySerde: key as Serde<unknown> | undefined, valueSerde: value as Serde<unknown> | undefined });
    return this.dsl.stream<K, V>(name, { key, value });
  }

  to(topic: string | TopicChooser<K, V>, options: ToOptions<K, V> = {}): void {
    const name = this.dsl.graph.nameFor('KSTREAM-SINK', options.name);
    requireTopic(name, topic);
    const chooser = topic as string | TopicChooser;
    this.dsl.graph.add({
      kind: 'sink',
      name,
      parents: [this.node],
      topic: typeof chooser === 'function' ? (key, value, context) => synchronous(chooser(key, value, context), name, 'topic chooser') : chooser,
      keySerde: (options.key ?? this.serdes.key) as Serde<unknown> | undefined,
      valueSerde: (options.value ?? this.serdes.value) as Serde<unknown> | undefined,
      onError: options.onError,
    });
  }

  join<VO, R>(other: Table<K, VO> | Stream<K, VO> | GlobalTable<unknown, VO>, joiner: ((value: V, otherValue: VO, key: K, context: RecordContext) => Synchronous<R>) | GlobalKeySelector<K, V, unknown>, windows?: JoinWindows | JoinOptions<K, V> | GlobalJoiner<K, V, VO, R>, options?: StreamJoinOptions<K, V, VO>): Stream<K, R> {
    return this.joinWith('join', other, joiner as StreamJoiner<K, V, VO, R>, windows, options);
  }

  leftJoin<VO, R>(other: Table<K, VO> | Stream<K, VO> | GlobalTable<unknown, VO>, joiner: ((value: V, otherValue: VO | null, key: K, context: RecordContext) => Synchronous<R>) | GlobalKeySelector<K, V, unknown>, windows?: JoinWindows | JoinOptions<K, V> | GlobalJoiner<K, V, VO, R>, options?: StreamJoinOptions<K, V, VO>): Stream<K, R> {
    return this.joinWith('leftJoin', other, joiner as StreamJoiner<K, V, VO, R>, windows, options);
  }

  outerJoin<VO, R>(other: Stream<K, VO>, joiner: (value: V | null, otherValue: VO | null, key: K, context: RecordContext) => Synchronous<R>, windows: JoinWindows, options?: StreamJoinOptions<K, V, VO>): Stream<K, R> {
    return this.joinWith('outerJoin', other, joiner as StreamJoiner<K, V, VO, R>, windows, options);
  }

  /** A join with a stream (windowed), a table or a global table (the arguments after the joiner differ). */
  private joinWith<VO, R>(kind: StreamJoinKind, other: Table<K, VO> | Stream<K, VO> | GlobalTable<unknown, VO>, joiner: StreamJoiner<K, V, VO, R>, third: JoinWindows | JoinOptions<K, V> | GlobalJoiner<K, V, VO, R> | undefined, options: StreamJoinOptions<K, V, VO> | undefined): Stream<K, R> {
    if (isGlobalTable(other) && kind !== 'outerJoin') {
      // With a global table the second argument is the key selector and the third the joiner.
      return joinGlobalTable(this.dsl, this.joinSide(), other, joiner as unknown as GlobalKeySelector<K, V, unknown>, third as GlobalJoiner<K, V, VO, R>, kind === 'leftJoin', options ?? {});
    }
    if (other instanceof GraphStream) {
      return joinStreams<K, V, VO, R>(this.dsl, this.joinSide(), (other as GraphStream<K, VO>).joinSide(), joiner, third as JoinWindows, kind, options ?? {});
    }
    if (kind === 'outerJoin') throw new TopologyError(this.node, 'outerJoin joins two streams (with JoinWindows); a stream joins a table with join or leftJoin.');
    return joinStreamTable(this.dsl, this.joinSide(), other as Table<K, VO>, joiner as (value: V, tableValue: VO | null, key: K, context: RecordContext) => Synchronous<R>, kind === 'leftJoin', (third ?? {}) as JoinOptions<K, V>);
  }

  private joinSide() {
    return { node: this.node, serdes: this.serdes, keyChanged: this.keyChanged };
  }

  groupByKey(options: { key?: Serde<K>; value?: Serde<V> } = {}): GroupedStream<K, V> {
    return this.dsl.grouped<K, V>(this.node, { key: options.key ?? this.serdes.key, value: options.value ?? this.serdes.value }, this.keyChanged);
  }

  groupBy<K2>(selector: (key: K, value: V, context: RecordContext) => Synchronous<K2>, options: Named & { key?: Serde<K2>; value?: Serde<V> } = {}): GroupedStream<K2, V> {
    const rekeyed = this.selectKey<K2>(selector, { name: options.name });
    return this.dsl.grouped<K2, V>(rekeyed.node, { key: options.key, value: options.value ?? this.serdes.value }, true);
  }

  /** Records a one-parent processor after this stream's node and returns its stream. */
  private addOperator<K2, V2>(prefix: string, operator: string, supplier: ProcessorSupplier, options: OperatorOptions | undefined, serdes: KnownSerdes<K2, V2>, changesKeys: boolean, callback: [what: string, value: unknown]): Stream<K2, V2> {
    const name = this.dsl.graph.nameFor(prefix, options?.name);
    requireFunction(name, ...callback);
    this.dsl.graph.add({ kind: 'processor', name, operator, parents: [this.node], supplier, onError: options?.onError });
    return this.dsl.stream<K2, V2>(name, serdes, this.keyChanged || changesKeys);
  }

  /** A pass-through child of `parent` that an operator routes to by name. */
  private branchOf(parent: string, suffix: string): string {
    const child = this.dsl.graph.nameFor('KSTREAM-BRANCHCHILD', `${parent}-${suffix}`);
    this.dsl.graph.add({ kind: 'processor', name: child, operator: 'branch', parents: [parent], supplier: passthrough });
    return child;
  }

  /** A stateful filter with a store, whose passing records continue and whose rejects may be wired. */
  private gate(prefix: string, operator: string, options: OperatorOptions, store: StoreSpec, onReject: ((rejected: Stream<K, V>) => void) | undefined, supplier: (routes: GateRoutes) => ProcessorSupplier, callback: [what: string, value: unknown]): Stream<K, V> {
    const name = this.dsl.graph.nameFor(prefix, options.name);
    requireFunction(name, ...callback);
    if (this.keyChanged) throw new TopologyError(name, `${operator} keeps state per partition, and an operator upstream may have changed the keys: add .repartition() before it.`);
    this.dsl.graph.addStore(store, name);
    const node = this.dsl.graph.add({ kind: 'processor', name, operator, parents: [this.node], supplier: passthrough, onError: options.onError, stores: [store.name] });
    const pass = this.branchOf(name, 'pass');
    const reject = onReject ? this.branchOf(name, 'reject') : undefined;
    node.supplier = supplier({ pass, reject });
    if (onReject) onReject(this.dsl.stream<K, V>(reject!, this.serdes));
    return this.dsl.stream<K, V>(pass, this.serdes);
  }

  /** What an operator applied with `via` may add to the topology. */
  private scope(): OperatorScope<K, V> {
    const { dsl } = this;
    return {
      serdes: this.serdes,
      keyChanged: this.keyChanged,
      name: (prefix, explicit) => dsl.graph.nameFor(prefix, explicit),
      addStore: (store, operator) => void dsl.graph.addStore(store, operator),
      addProcessor: (node) => dsl.graph.add({ ...node, kind: 'processor' }),
      branch: (parent, suffix) => this.branchOf(parent, suffix),
      stream: (node, serdes, keyChanged) => dsl.stream(node, serdes, keyChanged),
      isSource: (node) => dsl.graph.node(node)?.kind === 'source',
      addRoute: (route) => void dsl.graph.routes.push(route),
      shared: <T>(key: symbol, create: () => T): T => {
        if (!dsl.graph.shared.has(key)) dsl.graph.shared.set(key, create());
        return dsl.graph.shared.get(key) as T;
      },
    };
  }
}

/** The dependency settings of `batch`, checked: both `id` and `dependsOn`, or neither. */
function dependencySettings<K, V>(name: string, options: BatchOptions<K, V>): DependencySettings | undefined {
  const { id, dependsOn } = options;
  if ((id === undefined) !== (dependsOn === undefined)) throw new TopologyError(name, 'dependencies need both id and dependsOn (the ids records name and the ids each record needs); give both or neither.');
  if (id === undefined || dependsOn === undefined) {
    if (options.onMissingDependency || options.dependencyTimeoutMs !== undefined || options.releasedStore !== undefined || options.releasedTtlMs !== undefined) {
      throw new TopologyError(name, 'onMissingDependency, dependencyTimeoutMs, releasedStore and releasedTtlMs apply to dependencies: give id and dependsOn too.');
    }
    return undefined;
  }
  if (typeof id !== 'function' || typeof dependsOn !== 'function') throw new TopologyError(name, 'id and dependsOn must be functions of (value, key).');
  if (options.releasedTtlMs === undefined) throw new TopologyError(name, 'with dependsOn, releasedTtlMs is required: how long (stream time) released ids are remembered for records that arrive later.');
  positive(name, 'releasedTtlMs', options.releasedTtlMs);
  const timeoutMs = options.dependencyTimeoutMs ?? 30_000;
  positive(name, 'dependencyTimeoutMs', timeoutMs);
  return { store: options.releasedStore ?? `${String(options.store)}-released`, id: id as DependencySettings['id'], dependsOn: dependsOn as DependencySettings['dependsOn'], timeoutMs };
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
