import { StreamsBuilder } from '../dsl/builder.ts';
import type { ErrorHandling } from '../dsl/graph.ts';
import { Topology } from '../dsl/topology.ts';
import { TopologyError } from '../errors.ts';
import type { ClientProperties } from '../kafka/config.ts';
import { compile } from '../topology/compile.ts';
import type { CompiledTopology } from '../topology/compiled.ts';
import type { Serde } from '../serde/serde.ts';

export type ProcessingGuarantee = 'at_least_once' | 'exactly_once';

/** The settings an application can carry in its topology file, all overridable at `sluice run`. */
export interface ApplicationSettings {
  /** The consumer group and the prefix of internal topics. */
  applicationId: string;
  /** Default serdes for sources, sinks and repartitions that name none. */
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  /** What to do with a record that cannot be deserialized. Default `fail`. */
  onDeserializationError?: ErrorHandling;
  /** What to do when an operator throws. Default `fail`. */
  onProcessingError?: ErrorHandling;
  guarantee?: ProcessingGuarantee;
  /** How often processed offsets are committed. Default 1,000 ms at-least-once. */
  commitIntervalMs?: number;
  /**
   * Kafka Streams' `max.task.idle.ms`. A task that reads several partitions (a join's two
   * sides, merged streams) processes the record with the smallest timestamp among them, and
   * waits for an empty partition whose records are on the broker but not fetched yet (up to
   * 1 s); this is how long it also waits for an empty partition with nothing more on the broker
   * (new records may come). Default 0; -1: never wait. See docs/joins.md.
   */
  maxTaskIdleMs?: number;
  /**
   * Kafka Streams' `num.standby.replicas`: how many other members keep a warm copy of each task's
   * stores, following its changelogs, placed where the task goes if its owner fails, so a
   * failover restores only the changelog's tail. Default 0. See docs/scaling.md.
   */
  numStandbyReplicas?: number;
  /**
   * Kafka Streams' `acceptable.recovery.lag`: a named instance (`instanceName`) joining the group
   * first catches up copies of the tasks it will own until each is within this many changelog
   * records, so the tasks it takes restore only that much. Default 10,000. See docs/scaling.md.
   */
  acceptableRecoveryLag?: number;
  /**
   * Kafka Streams' `num.stream.threads`: how many stream threads this instance runs, each a
   * process of its own (a member of the group with its own tasks, client and event loop), behind
   * one query server and one metrics endpoint. Default 1. See docs/scaling.md.
   */
  numStreamThreads?: number;
  /**
   * Kafka Streams' `state.cleanup.delay.ms`: the local state of a task this machine no longer
   * runs (no task, standby or warm-up copy uses its directory) is deleted once nothing has
   * written it for this long. Default 600,000 ms (10 minutes).
   */
  stateCleanupDelayMs?: number;
  /** How often the records of repartition topics before the committed positions are deleted. Default 30,000 ms. */
  repartitionPurgeIntervalMs?: number;
  /** Extra librdkafka properties for every client (security, tuning). */
  kafka?: ClientProperties;
}

/** What a topology file's default export is: the topology and its defaults. */
export interface ApplicationDefinition extends ApplicationSettings {
  topology: Topology | ((builder: StreamsBuilder) => void);
}

/**
 * Declares an application; a topology file's default export.
 *
 * @example
 * ```ts
 * export default defineApplication({
 *   applicationId: 'pricing',
 *   keySerde: Serdes.string(),
 *   valueSerde: Serdes.json(),
 *   topology: (builder) => builder.stream('orders').mapValues(price).to('priced-orders'),
 * });
 * ```
 */
export function defineApplication(definition: ApplicationDefinition): ApplicationDefinition {
  if (!definition || typeof definition !== 'object') {
    throw new TopologyError(undefined, 'defineApplication() needs an object with applicationId and topology.');
  }
  if (typeof definition.topology !== 'function' && !(definition.topology instanceof Topology)) {
    throw new TopologyError(undefined, 'topology must be a function (builder) => { ... } or a Topology.');
  }
  return definition;
}

/** Runs the definition's topology function, if it is one. */
export function topologyOf(definition: ApplicationDefinition): Topology {
  if (definition.topology instanceof Topology) return definition.topology;
  const builder = new StreamsBuilder();
  definition.topology(builder);
  return builder.build();
}

/** Compiles the definition's topology with its settings (see {@link compile}). */
export function compileApplication(definition: ApplicationDefinition, settings: ApplicationSettings = definition): CompiledTopology {
  return compile(topologyOf(definition), {
    applicationId: settings.applicationId,
    keySerde: settings.keySerde,
    valueSerde: settings.valueSerde,
    onDeserializationError: settings.onDeserializationError,
    onProcessingError: settings.onProcessingError,
  });
}
