import type { CompiledTopology } from '../topology/compiled.ts';
import { deadLetterTopics, nodeHandlings } from './record-errors.ts';

/** What an application reads, writes and keeps, by the user's names, for summaries and the reset tool. */
export interface ApplicationTopics {
  /** User topics it reads (tables' source topics included). */
  sources: string[];
  /** User topics its sinks write to by name. */
  outputs: string[];
  /** True when a sink chooses its topic per record: outputs beyond `outputs`. */
  outputsChosenPerRecord: boolean;
  /** Dead-letter topics its error handlers name. */
  deadLetters: string[];
  /** Repartition and changelog topics it creates and owns. */
  internal: string[];
  /** Operators that write to systems outside Kafka (sinks such as a database table). */
  externalWriters: Array<{ operator: string; name: string }>;
}

/**
 * The topics of a compiled topology, grouped by who owns them.
 *
 * @example
 * ```ts
 * const { sources, outputs } = applicationTopics(app.topology);
 * ```
 */
export function applicationTopics(topology: CompiledTopology): ApplicationTopics {
  const nodes = topology.subtopologies.flatMap((s) => s.nodes);
  const deadLetters = deadLetterTopics(nodeHandlings(nodes));
  return {
    sources: [...topology.externalSourceTopics],
    outputs: topology.externalSinkTopics.filter((t) => !deadLetters.includes(t)),
    outputsChosenPerRecord: nodes.some((n) => n.kind === 'sink' && typeof n.topic !== 'string'),
    deadLetters,
    internal: topology.internalTopics.map((t) => t.name),
    externalWriters: nodes.flatMap((n) => (n.kind === 'processor' && n.external ? [{ operator: n.operator, name: n.name }] : [])),
  };
}
