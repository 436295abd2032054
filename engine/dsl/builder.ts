import { LogicalGraph } from './graph.ts';
import { Stream, type Named } from './stream.ts';
import { Topology, type SourceOptions } from './topology.ts';

/**
 * The entry point of the DSL, as Kafka Streams' `StreamsBuilder`: streams from topics, then
 * operators on them. `build()` returns the {@link Topology} it recorded.
 *
 * @example
 * ```ts
 * const builder = new StreamsBuilder();
 * builder.stream('in', { key: Serdes.string(), value: Serdes.string() })
 *   .mapValues((v) => v.toUpperCase())
 *   .to('out');
 * const topology = builder.build();
 * ```
 */
export class StreamsBuilder {
  readonly graph = new LogicalGraph();

  /** A stream of the records of `topics` (several topics: one stream, each partition's order kept). */
  stream<K = unknown, V = unknown>(topics: string | string[], options: SourceOptions<K, V> & Named = {}): Stream<K, V> {
    const name = this.graph.nameFor('KSTREAM-SOURCE', options.name);
    new Topology(this.graph).addSource(name, topics, options);
    return new Stream<K, V>(this.graph, name, { key: options.key, value: options.value });
  }

  build(): Topology {
    return new Topology(this.graph);
  }
}
