import { TopologyError } from '../errors.ts';
import type { Serde } from '../serde/serde.ts';
import { requireObject } from './checks.ts';
import type { GlobalTable } from './api.ts';
import type { LogicalGraph } from './graph.ts';
import type { GlobalTableOptions } from './stream-options.ts';

/**
 * The {@link GlobalTable} the builder hands out: a handle on a global store of one graph. It records
 * nothing itself; a stream's join with it does.
 */
class GraphGlobalTable<K, V> implements GlobalTable<K, V> {
  constructor(
    readonly store: string,
    readonly topic: string,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    /** @internal The graph it belongs to: a join checks it is its own. */
    readonly graph: LogicalGraph,
  ) {}
}

/** Records a global table over `topic` (see `StreamsBuilder.globalTable`). */
export function addGlobalTable<K, V>(graph: LogicalGraph, topic: string, options: GlobalTableOptions<K, V>): GlobalTable<K, V> {
  requireObject('globalTable', 'a store: { name, key?, value?, onDeserializationError? }', options);
  const operator = typeof options.name === 'string' && options.name ? options.name : 'globalTable';
  if (typeof topic !== 'string' || topic.length === 0) throw new TopologyError(operator, `a global table reads one topic, named by a non-empty string; got ${typeof topic}.`);
  const handling = options.onDeserializationError;
  if (handling !== undefined && handling !== 'fail' && handling !== 'log-and-continue') {
    throw new TopologyError(operator, `a global table's onDeserializationError is "fail" or "log-and-continue": its records are applied outside any task's commit, so none can go to a dead-letter topic with it.`);
  }
  graph.addGlobalStore(
    { name: options.name, topic, keySerde: options.key as Serde<unknown> | undefined, valueSerde: options.value as Serde<unknown> | undefined, onDeserializationError: handling },
    'globalTable',
  );
  return new GraphGlobalTable<K, V>(options.name, topic, options.key, options.value, graph);
}

/** True for a global table of `graph` (a plain-JavaScript topology file may pass anything). */
export function isGlobalTableOf(graph: LogicalGraph, value: unknown): value is GlobalTable<unknown, unknown> {
  return value instanceof GraphGlobalTable && value.graph === graph;
}

/** True for a global table of any builder: a join tells it from a table or a stream by this. */
export function isGlobalTable(value: unknown): value is GlobalTable<unknown, unknown> {
  return value instanceof GraphGlobalTable;
}
