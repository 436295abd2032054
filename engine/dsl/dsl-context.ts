import type { GroupedStream, Splitter, Stream, Table } from './api.ts';
import type { LogicalGraph } from './graph.ts';
import type { KnownSerdes } from './stream-options.ts';

/**
 * @internal What the DSL's classes share: the graph they record into, and how they make each
 * other's objects. `StreamsBuilder` wires the classes in, so that none imports another (the
 * types they return are in api.ts).
 */
export interface DslContext {
  readonly graph: LogicalGraph;
  stream<K, V>(node: string, serdes: KnownSerdes<K, V>, keyChanged?: boolean): Stream<K, V>;
  table<K, V>(node: string, serdes: KnownSerdes<K, V>, store?: string): Table<K, V>;
  grouped<K, V>(node: string, serdes: KnownSerdes<K, V>, repartition: boolean): GroupedStream<K, V>;
  splitter<K, V>(parent: string, name: string | undefined, serdes: KnownSerdes<K, V>): Splitter<K, V, object>;
}
