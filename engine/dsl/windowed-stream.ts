import { untyped, type RecordContext } from '../processors/processor.ts';
import type { Synchronous } from '../processors/synchronous.ts';
import { sessionWindowAggregate } from '../processors/windows/session-window-aggregate.ts';
import { slidingWindowAggregate } from '../processors/windows/sliding-window-aggregate.ts';
import { minimumRetention, windowSize, type SessionWindows, type SlidingWindows, type TimeWindows, type WindowSpec } from '../processors/windows/specs.ts';
import { timeWindowAggregate } from '../processors/windows/time-window-aggregate.ts';
import { Serdes, type Serde } from '../serde/serde.ts';
import { sessionWindowedSerde, stampedSerde, timeWindowedSerde } from '../serde/windowed.ts';
import { segmentInterval } from '../../state/window/windowed-keys.ts';
import { TopologyError } from '../errors.ts';
import type { SessionWindowedStream, TimeWindowedStream, WindowedTable } from './api.ts';
import { requireFunction } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import type { ProcessorSupplier } from '../processors/processor.ts';
import { guardOperators } from './operator-guard.ts';
import type { KnownSerdes, WindowedMaterialized } from './stream-options.ts';
import { GraphWindowedTable } from './windowed-table.ts';

const WINDOWED_OPERATORS = ['count', 'reduce', 'aggregate'] as const;

/** What a windowed stream needs of the grouped stream it came from. */
export interface GroupedInput<K, V> {
  readonly node: string;
  readonly serdes: KnownSerdes<K, V>;
  /** The node an aggregation with store `store` reads from (a repartition first, when keys changed). */
  inputFor(store: string): string;
}

/** The first value of a key's reduce: the next value replaces it rather than being combined with it. */
const FIRST: unique symbol = Symbol('first');
type First = typeof FIRST;

/**
 * The {@link TimeWindowedStream} and {@link SessionWindowedStream} the DSL hands out: each
 * aggregation records a windowed store (segmented by time, kept `retentionMs`) and the window
 * aggregation over it, and returns a {@link WindowedTable}.
 */
export class GraphWindowedStream<K, V> implements TimeWindowedStream<K, V>, SessionWindowedStream<K, V> {
  readonly node: string;
  private readonly dsl: DslContext;
  private readonly input: GroupedInput<K, V>;
  private readonly windows: WindowSpec;

  /** @internal Windowed streams come from `windowedBy`, which checked the spec. */
  constructor(dsl: DslContext, input: GroupedInput<K, V>, windows: WindowSpec) {
    this.dsl = dsl;
    this.input = input;
    this.node = input.node;
    this.windows = windows;
    return guardOperators(this, `${windows.kind}-windowed stream`, input.node, WINDOWED_OPERATORS);
  }

  count(materialized: WindowedMaterialized<K, number>): WindowedTable<K, number> {
    const add = (_: K, __: unknown, n: number) => n + 1;
    return this.aggregation<number>('count', materialized, Serdes.json<number>(), [], () => 0, add, (_, a, b) => a + b);
  }

  reduce<R extends V>(reducer: (aggregate: V, value: V, key: K) => Synchronous<R>, materialized: WindowedMaterialized<K, V>): WindowedTable<K, V> {
    const reduce = reducer as (aggregate: V, value: V, key: K) => V;
    const add = (key: K, value: V, current: V | First) => (current === FIRST ? value : reduce(current, value, key));
    const merge = (key: K, a: V | First, b: V | First) => (a === FIRST ? b : b === FIRST ? a : reduce(a, b, key));
    return this.aggregation<V | First>('reduce', materialized as WindowedMaterialized<K, V | First>, this.input.serdes.value as Serde<V | First> | undefined, [['reducer', reducer]], () => FIRST, add, merge, 'reducer') as WindowedTable<K, V>;
  }

  aggregate<A>(
    initializer: () => Synchronous<A>,
    aggregator: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    mergerOrMaterialized: ((key: K, aggregate1: A, aggregate2: A) => Synchronous<A>) | WindowedMaterialized<K, A>,
    sessionMaterialized?: WindowedMaterialized<K, A>,
  ): WindowedTable<K, A> {
    const session = this.windows.kind === 'session';
    const merger = session ? (mergerOrMaterialized as (key: K, a: A, b: A) => A) : undefined;
    const materialized = session ? sessionMaterialized! : (mergerOrMaterialized as WindowedMaterialized<K, A>);
    const callbacks: Array<[string, unknown]> = [['initializer', initializer], ['aggregator', aggregator]];
    if (session) callbacks.push(['merger', merger]);
    return this.aggregation<A>('aggregate', materialized, undefined, callbacks, initializer as () => A, aggregator as (key: K, value: V, aggregate: A) => A, merger);
  }

  private aggregation<A>(
    operator: string,
    materialized: WindowedMaterialized<K, A>,
    defaultValueSerde: Serde<A> | undefined,
    callbacks: Array<[what: string, value: unknown]>,
    initializer: () => A,
    aggregator: (key: K, value: V, aggregate: A, context: RecordContext) => A,
    merger: ((key: K, a: A, b: A) => A) | undefined,
    callback?: string,
  ): WindowedTable<K, A> {
    const { graph } = this.dsl;
    const windows = this.windows;
    const name = graph.nameFor(windows.kind === 'session' ? 'KSTREAM-SESSION-WINDOW-AGGREGATE' : 'KSTREAM-WINDOW-AGGREGATE', undefined);
    for (const c of callbacks) requireFunction(name, ...c);
    materialized ??= {} as WindowedMaterialized<K, A>;
    const retentionMs = retentionOf(name, windows, materialized.retentionMs);
    const sizeMs = windowSize(windows);
    const valueSerde = materialized.value ?? defaultValueSerde;
    const keySerde = materialized.key ?? this.input.serdes.key;
    const store = graph.addStore(
      {
        name: materialized.name,
        keySerde: keySerde as Serde<unknown> | undefined,
        valueSerde: (windows.kind === 'session' ? valueSerde : stampedSerde(valueSerde)) as Serde<unknown>,
        caching: materialized.caching,
        partitionedByKey: true,
        // Sliding and session windows find a key's windows by time on the per-record path: an index in memory, built at start.
        preload: windows.kind !== 'time',
        windowed: { kind: windows.kind === 'session' ? 'session' : 'time', sizeMs, endInclusive: windows.kind !== 'time', retentionMs, segmentIntervalMs: segmentInterval(retentionMs) },
      },
      name,
    ).name;
    const supplier = this.supplier(store, retentionMs, initializer, aggregator, merger, callback);
    const onLate = materialized.onLate;
    if (onLate !== undefined && (typeof onLate !== 'object' || typeof onLate.deadLetterTopic !== 'string' || onLate.deadLetterTopic.length === 0)) {
      throw new TopologyError(name, 'onLate must be { deadLetterTopic: "<topic>" }.');
    }
    graph.add({ kind: 'processor', name, operator: `${operator} over ${windows}`, parents: [this.input.inputFor(store)], supplier, stores: [store], ...(onLate ? { onLate } : {}) });
    const tableKey = windows.kind === 'session' ? sessionWindowedSerde(keySerde) : timeWindowedSerde(keySerde, sizeMs);
    const table = new GraphWindowedTable<K, A>(this.dsl, name, { key: tableKey, value: valueSerde }, store, windows);
    return materialized.emit === 'final' ? table.suppress({ kind: 'until-window-closes' }) : table;
  }

  private supplier<A>(
    store: string,
    retentionMs: number,
    initializer: () => A,
    aggregator: (key: K, value: V, aggregate: A, context: RecordContext) => A,
    merger: ((key: K, a: A, b: A) => A) | undefined,
    callback: string | undefined,
  ): ProcessorSupplier {
    const windows = this.windows;
    switch (windows.kind) {
      case 'time':
        return untyped(timeWindowAggregate<K, V, A>({ store, windows, initializer, aggregator, callback }));
      case 'sliding':
        return untyped(slidingWindowAggregate<K, V, A>({ store, windows, retentionMs, segmentIntervalMs: segmentInterval(retentionMs), initializer, aggregator, callback }));
      case 'session':
        return untyped(sessionWindowAggregate<K, V, A>({ store, windows, retentionMs, segmentIntervalMs: segmentInterval(retentionMs), initializer, aggregator, merger: merger!, callback }));
    }
  }
}

/** The store's retention: what the user asked, at least as long as records can still reach a window. */
function retentionOf(operator: string, windows: WindowSpec, asked: number | undefined): number {
  const minimum = minimumRetention(windows);
  if (asked === undefined) return minimum;
  if (!(typeof asked === 'number' && Number.isFinite(asked) && asked >= minimum)) {
    throw new TopologyError(operator, `retentionMs must be at least ${minimum} ms for ${windows} (records can reach a window that long); got ${String(asked)}.`);
  }
  return asked;
}

/** Checks a spec given to `windowedBy`, naming the operator. */
export function checkWindows(operator: string, windows: unknown): WindowSpec {
  const spec = windows as Partial<WindowSpec> | null | undefined;
  if (typeof spec !== 'object' || spec === null || typeof spec.problem !== 'function' || !['time', 'sliding', 'session'].includes(spec.kind as string)) {
    throw new TopologyError(operator, 'windowedBy takes TimeWindows, SlidingWindows or SessionWindows (e.g. TimeWindows.ofSizeAndGrace(60_000, 10_000)).');
  }
  const problem = spec.problem();
  if (problem !== undefined) throw new TopologyError(operator, `its windows cannot work: ${problem}.`);
  return spec as WindowSpec;
}

export type { SessionWindows, SlidingWindows, TimeWindows };
