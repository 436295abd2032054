import { ApplicationError } from '../errors.ts';
import type { KafkaAdmin } from '../kafka/admin.ts';
import type { CompiledTopology } from '../topology/compiled.ts';

/**
 * Checks the source topics exist and creates the internal topics the topology needs (and the
 * dead-letter topics its handlers name). A repartition topic gets the partition count given to
 * it, or that of the topics its writing sub-topology reads. Returns every topic's partitions.
 * An existing internal topic with another partition count is an error: records would move.
 */
export async function prepareTopics(admin: KafkaAdmin, topology: CompiledTopology, deadLetterTopics: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  // Each name once: the client refuses a list that names a topic twice (a dead-letter topic
  // that is also a sink's, say).
  const names = new Set([...topology.externalSourceTopics, ...topology.externalSinkTopics, ...topology.internalTopics.map((t) => t.name), ...deadLetterTopics]);
  const existing = await admin.describeTopics([...names]);
  for (const t of existing) counts.set(t.name, t.partitions);

  const missing = topology.externalSourceTopics.filter((t) => !counts.has(t));
  if (missing.length > 0) {
    throw new ApplicationError(
      `Source topic(s) ${missing.map((t) => `"${t}"`).join(', ')} do not exist. Create them (with the partition count you want) before starting ${topology.applicationId}.`,
    );
  }

  const toCreate: Array<{ name: string; partitions: number; config: Record<string, string> }> = [];
  let pending = [...topology.internalTopics];
  while (pending.length > 0) {
    const before = pending.length;
    pending = pending.filter((topic) => {
      const inputs = topology.subtopologies[topic.writtenBy]!.sourceTopics.map((t) => counts.get(t));
      if (topic.partitions === undefined && inputs.some((n) => n === undefined)) return true;
      const wanted = topic.partitions ?? Math.max(...(inputs as number[]));
      const actual = counts.get(topic.name);
      if (actual === undefined) toCreate.push({ name: topic.name, partitions: wanted, config: topic.config });
      else if (actual !== wanted) {
        throw new ApplicationError(
          `Internal topic "${topic.name}" has ${actual} partitions but the topology needs ${wanted}. ` +
            `Run \`sluice reset\` for ${topology.applicationId} (or delete the topic) so it is created again.`,
        );
      }
      counts.set(topic.name, wanted);
      return false;
    });
    if (pending.length === before) throw new ApplicationError(`Cannot size internal topics ${pending.map((t) => t.name).join(', ')}: they depend on each other.`);
  }

  const widest = Math.max(1, ...topology.externalSourceTopics.map((t) => counts.get(t)!));
  for (const name of deadLetterTopics) {
    if (!counts.has(name)) {
      toCreate.push({ name, partitions: widest, config: {} });
      counts.set(name, widest);
    }
  }
  if (toCreate.length > 0) await admin.createTopics(toCreate);
  return counts;
}
