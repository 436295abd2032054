import { ApplicationError } from '../errors.ts';
import { instancesTopic } from '../iq/directory.ts';
import { KafkaAdmin } from '../kafka/admin.ts';
import type { ConnectionOptions } from '../kafka/config.ts';
import type { CompiledTopology } from '../topology/compiled.ts';

export interface ResetReport {
  group: string;
  deletedTopics: string[];
}

/**
 * The application reset tool: forgets the group's committed offsets (so the next run starts
 * from the earliest records of its source topics) and deletes its internal topics. Refuses
 * while any instance is still a member of the group.
 */
export async function resetApplication(topology: CompiledTopology, connection: ConnectionOptions): Promise<ResetReport> {
  const group = topology.applicationId;
  const admin = KafkaAdmin.connect(connection);
  try {
    const [description] = await admin.describeGroups([group]);
    if (description && description.members.length > 0) {
      throw new ApplicationError(
        `Application ${group} still has ${description.members.length} running instance(s) (${description.members.map((m) => m.clientId).join(', ')}). Stop them all, then reset.`,
      );
    }
    if (description && description.state !== 'DEAD' && (await admin.groupOffsets(group)).length > 0) await admin.deleteGroups([group]);
    const existing = new Set(await admin.listTopics());
    const internal = [...topology.internalTopics.map((t) => t.name), instancesTopic(group)].filter((name) => existing.has(name));
    await admin.deleteTopics(internal);
    return { group, deletedTopics: internal };
  } finally {
    admin.disconnect();
  }
}
