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
  const sized = sizeInternalTopics(topology, counts);
  for (const topic of topology.internalTopics) {
    const wanted = sized.get(topic.name)!;
    const actual = counts.get(topic.name);
    if (actual === undefined) toCreate.push({ name: topic.name, partitions: wanted, config: topic.config });
    else if (actual !== wanted) {
      throw new ApplicationError(
        `Internal topic "${topic.name}" has ${actual} partitions but the topology needs ${wanted}. ` +
          `Run \`sluice reset\` for ${topology.applicationId} (or delete the topic) so it is created again.`,
      );
    }
    counts.set(topic.name, wanted);
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

/**
 * The partition count of every internal topic: the one given to it; for a repartition topic a
 * join reads, that of the join's other topics; otherwise the widest of the topics its writing
 * sub-topology reads. When every topic a join reads is a repartition topic, they all take the
 * widest of their counts (as Kafka Streams does), and the topics sized from them follow.
 */
function sizeInternalTopics(topology: CompiledTopology, external: Map<string, number>): Map<string, number> {
  const internal = new Set(topology.internalTopics.map((t) => t.name));
  const joined = copartitionedCounts(topology, external, internal);
  for (let round = 0; round <= topology.internalTopics.length; round++) {
    const sized = new Map(external);
    let pending = [...topology.internalTopics];
    while (pending.length > 0) {
      const before = pending.length;
      pending = pending.filter((topic) => {
        const inputs = topology.subtopologies[topic.writtenBy]!.sourceTopics.map((t) => sized.get(t));
        const fixed = joined.get(topic.name);
        if (topic.partitions === undefined && fixed === undefined && inputs.some((n) => n === undefined)) return true;
        if (topic.partitions !== undefined && fixed !== undefined && topic.partitions !== fixed) {
          throw new ApplicationError(`Repartition topic "${topic.name}" is given ${topic.partitions} partitions, but the join that reads it needs ${fixed} (the count of the other topics it reads): give it ${fixed}, or none.`);
        }
        sized.set(topic.name, fixed ?? topic.partitions ?? Math.max(...(inputs as number[])));
        return false;
      });
      if (pending.length === before) throw new ApplicationError(`Cannot size internal topics ${pending.map((t) => t.name).join(', ')}: they depend on each other.`);
    }
    let changed = false;
    for (const sub of topology.subtopologies) {
      if (!sub.copartitioned || sub.sourceTopics.some((t) => !internal.has(t))) continue;
      const widest = Math.max(...sub.sourceTopics.map((t) => sized.get(t)!));
      for (const topic of sub.sourceTopics) {
        if (sized.get(topic) !== widest) {
          joined.set(topic, widest);
          changed = true;
        }
      }
    }
    if (!changed) return sized;
  }
  throw new ApplicationError('Cannot size the repartition topics the joins read: their partition counts keep changing each other.');
}

/**
 * The partition count of each repartition topic a co-partitioned sub-topology (a join) reads:
 * that of the sub-topology's other source topics, which must all have the same. A mismatch is
 * refused, naming the topics and their counts: partition p of one would not hold the keys of
 * partition p of the other, and the join would miss.
 */
function copartitionedCounts(topology: CompiledTopology, counts: Map<string, number>, internal: Set<string>): Map<string, number> {
  const sized = new Map<string, number>();
  for (const sub of topology.subtopologies) {
    if (!sub.copartitioned) continue;
    const external = sub.sourceTopics.filter((t) => !internal.has(t));
    const distinct = new Set(external.map((t) => counts.get(t)));
    if (distinct.size > 1) {
      throw new ApplicationError(
        `The topics a join reads must have equal partition counts, and they differ: ${external.map((t) => `"${t}" has ${counts.get(t)}`).join(', ')}. ` +
          'Give them the same count, or add .repartition() to the stream before the join: its repartition topic then takes the table\'s count.',
      );
    }
    const [count] = distinct;
    if (count === undefined) continue;
    for (const topic of sub.sourceTopics) if (internal.has(topic)) sized.set(topic, count);
  }
  return sized;
}
