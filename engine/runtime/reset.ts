import { ApplicationError, ConfigError } from '../errors.ts';
import { instancesTopic } from '../iq/directory.ts';
import { deadLettersHandledTopic } from '../iq/dead-letter-records.ts';
import { KafkaAdmin } from '../kafka/admin.ts';
import type { ConnectionOptions } from '../kafka/config.ts';
import type { CompiledTopology } from '../topology/compiled.ts';
import { applicationTopics, type ApplicationTopics } from './application-topics.ts';

export interface ResetOptions {
  /**
   * Output topics to delete as well (by default output topics are left as they are). Each must
   * be one the application writes (a sink's or a dead-letter topic), unless a sink chooses its
   * topic per record; never one it reads.
   */
  outputTopics?: string[];
}

export interface ResetReport {
  group: string;
  /** True when the group had committed offsets, now deleted. */
  offsetsDeleted: boolean;
  /** Internal topics deleted (repartition, changelog, the instance directory). */
  deletedTopics: string[];
  /** Output topics deleted as asked, with the partition count each had (to create it again). */
  deletedOutputTopics: Array<{ name: string; partitions: number }>;
  /** Output topics asked for that did not exist. */
  missingOutputTopics: string[];
  /** What the reset did not touch: the inputs, the outputs not named, outside systems. */
  untouched: Pick<ApplicationTopics, 'sources' | 'deadLetters' | 'externalWriters' | 'outputsChosenPerRecord'> & { outputs: string[] };
}

/**
 * The application reset tool: forgets the group's committed offsets (so the next run starts
 * from the earliest records of its source topics), deletes its internal topics, and the output
 * topics named in `options.outputTopics`. Source topics, other outputs and external systems are
 * left as they are; the report lists them. Refuses while any instance is still a member of the
 * group, and refuses an output topic the application reads or does not write, before deleting
 * anything.
 *
 * @example
 * ```ts
 * const report = await resetApplication(app.topology, { bootstrapServers }, { outputTopics: ['priced-orders'] });
 * ```
 */
export async function resetApplication(topology: CompiledTopology, connection: ConnectionOptions, options: ResetOptions = {}): Promise<ResetReport> {
  const group = topology.applicationId;
  const topics = applicationTopics(topology);
  const named = [...new Set(options.outputTopics ?? [])];
  checkOutputTopics(named, topics, group);
  // Internal topics are deleted anyway.
  const outputTopics = named.filter((name) => !topics.internal.includes(name));
  const admin = KafkaAdmin.connect(connection);
  try {
    const [description] = await admin.describeGroups([group]);
    if (description && description.members.length > 0) {
      throw new ApplicationError(
        `Application ${group} still has ${description.members.length} running instance(s) (${description.members.map((m) => m.clientId).join(', ')}). Stop them all, then reset.`,
      );
    }
    const offsetsDeleted = description !== undefined && description.state !== 'DEAD' && (await admin.groupOffsets(group)).length > 0;
    if (offsetsDeleted) await admin.deleteGroups([group]);
    const existing = new Set(await admin.listTopics());
    const internal = [...topics.internal, instancesTopic(group), deadLettersHandledTopic(group)].filter((name) => existing.has(name));
    const outputs = (await admin.describeTopics(outputTopics.filter((name) => existing.has(name)))).map((t) => ({ name: t.name, partitions: t.partitions }));
    await admin.deleteTopics([...internal, ...outputs.map((t) => t.name)]);
    await admin.waitUntilDeleted([...internal, ...outputs.map((t) => t.name)]);
    return {
      group,
      offsetsDeleted,
      deletedTopics: internal,
      deletedOutputTopics: outputs,
      missingOutputTopics: outputTopics.filter((name) => !outputs.some((t) => t.name === name)),
      untouched: {
        sources: topics.sources,
        outputs: topics.outputs.filter((name) => !outputTopics.includes(name)),
        deadLetters: topics.deadLetters.filter((name) => !outputTopics.includes(name)),
        outputsChosenPerRecord: topics.outputsChosenPerRecord,
        externalWriters: topics.externalWriters,
      },
    };
  } finally {
    admin.disconnect();
  }
}

/** Output topics to delete must be written by the application and never read by it. */
function checkOutputTopics(names: string[], topics: ApplicationTopics, group: string): void {
  for (const name of names) {
    if (topics.sources.includes(name)) {
      throw new ConfigError(`--output-topics names ${name}, which ${group} reads: a reset never deletes its inputs (the next run rebuilds from them).`);
    }
    if (topics.internal.includes(name)) continue;
    const written = topics.outputs.includes(name) || topics.deadLetters.includes(name);
    if (!written && !topics.outputsChosenPerRecord) {
      const known = [...topics.outputs, ...topics.deadLetters];
      throw new ConfigError(`--output-topics names ${name}, which ${group} does not write; its output topics are: ${known.join(', ') || 'none'}. Nothing was reset.`);
    }
  }
}
