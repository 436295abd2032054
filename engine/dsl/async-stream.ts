import { TopologyError } from '../errors.ts';
import { asyncOperator, type AsyncKind } from '../processors/async/async-operators.ts';
import { asyncSettings } from '../processors/async/async-options.ts';
import type { AsyncCall } from '../processors/async/async-runner.ts';
import type { Stream } from './api.ts';
import { requireFunction } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import type { AsyncOptions, KnownSerdes } from './stream-options.ts';

/** Operators that pass each record on while it is processed (never from a punctuation or a cache flush). */
const PER_RECORD = new Set(['filter', 'filterNot', 'map', 'mapValues', 'flatMap', 'flatMapValues', 'selectKey', 'peek', 'withHeaders', 'merge', 'branch', 'mapValuesAsync', 'mapAsync', 'flatMapAsync', 'filterAsync']);

/** The stream an async operator is added to, as the DSL knows it. */
export interface AsyncInput<K, V> {
  readonly node: string;
  readonly serdes: KnownSerdes<K, V>;
  readonly keyChanged: boolean;
  repartition(options: { name: string }): Stream<K, V>;
}

/**
 * Records an async operator. Its records must each come from an input record (it holds the
 * input's position until their calls finish), so when something upstream may forward outside
 * one (an aggregation's cache, a custom processor's punctuation), a repartition topic goes in
 * front of it, as for a sink.
 */
export function addAsyncOperator<K, V, K2, V2>(dsl: DslContext, input: AsyncInput<K, V>, kind: AsyncKind, call: unknown, options: AsyncOptions | undefined, prefix: string): { node: string; stream: Stream<K2, V2> } {
  const name = dsl.graph.nameFor(prefix, options?.name);
  requireFunction(name, kind === 'filterAsync' ? 'predicate' : kind === 'forEachAsync' ? 'action' : 'mapper', call);
  const settings = asyncSettings(options);
  if (typeof settings === 'string') throw new TopologyError(name, `${kind}: ${settings}.`);
  const from = perRecordUpstream(dsl, input.node) ? input : (input.repartition({ name: `${name}-input` }) as unknown as AsyncInput<K, V>);
  dsl.graph.add({ kind: 'processor', name, operator: kind, parents: [from.node], supplier: asyncOperator(kind, call as AsyncCall, settings), onError: options?.onError });
  const sameKey = kind === 'mapValuesAsync' || kind === 'filterAsync' || kind === 'forEachAsync';
  const serdes = (kind === 'filterAsync' ? from.serdes : sameKey ? { key: from.serdes.key } : {}) as unknown as KnownSerdes<K2, V2>;
  return { node: name, stream: dsl.stream<K2, V2>(name, serdes, from.keyChanged || !sameKey) };
}

/** True when every path from `node` up to a topic passes records on only while they are processed. */
function perRecordUpstream(dsl: DslContext, node: string): boolean {
  const spec = dsl.graph.node(node);
  if (spec === undefined) return false;
  if (spec.kind === 'source' || spec.kind === 'repartition') return true;
  if (spec.kind !== 'processor' || !PER_RECORD.has(spec.operator)) return false;
  return spec.parents.every((parent) => perRecordUpstream(dsl, parent));
}
