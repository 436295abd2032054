import Kafka from '@confluentinc/kafka-javascript';
import { baseProperties, type ConnectionOptions } from './config.ts';
import { KafkaOperationError } from '../errors.ts';
import { KafkaCodes, kafkaError, promised } from './errors.ts';
import type { TopicPartitionOffset } from './records.ts';

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor?: number;
  /** Topic configuration, e.g. `{ 'cleanup.policy': 'compact' }`. */
  config?: Record<string, string>;
}

export interface TopicDescription {
  name: string;
  partitions: number;
  /** True when every partition has a leader, so the topic can be written and read. */
  ready: boolean;
}

/** A topic's partitions: where each lives and which replicas are in sync. */
export interface TopicLayout {
  name: string;
  /** Broker ids, per partition in partition order. */
  partitions: Array<{ partition: number; leader: number | null; replicas: number[]; isr: number[] }>;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocol: string;
  /** `instanceId`: the group instance id of a static member. */
  members: Array<{ memberId: string; instanceId?: string; clientId: string; host: string; assignment: Array<{ topic: string; partition: number }> }>;
}

/** The group states by the numbers the client gives them (its table has no reverse lookup). */
const GROUP_STATES = new Map<number, string>(Object.entries(Kafka.ConsumerGroupStates).map(([name, value]) => [Number(value), name]));

/**
 * Topic and group administration.
 *
 * @example
 * ```ts
 * const admin = KafkaAdmin.connect({ bootstrapServers });
 * await admin.createTopics([{ name: 'orders', partitions: 6 }]);
 * admin.disconnect();
 * ```
 */
export class KafkaAdmin {
  private readonly client: Kafka.IAdminClient;
  private readonly timeoutMs: number;

  private constructor(client: Kafka.IAdminClient, timeoutMs: number) {
    this.client = client;
    this.timeoutMs = timeoutMs;
  }

  static connect(options: ConnectionOptions & { timeoutMs?: number } = {}): KafkaAdmin {
    const client = Kafka.AdminClient.create(baseProperties(options) as Kafka.GlobalConfig);
    return new KafkaAdmin(client, options.timeoutMs ?? 30_000);
  }

  listTopics(): Promise<string[]> {
    return promised('list topics', (done) => this.client.listTopics({ timeout: this.timeoutMs }, done));
  }

  /** Creates the topics that do not exist yet and waits until each has a leader everywhere. */
  async createTopics(topics: TopicSpec[]): Promise<void> {
    for (const topic of topics) {
      await promised<void>('create topic ' + topic.name, (done) =>
        this.client.createTopic(
          {
            topic: topic.name,
            num_partitions: topic.partitions,
            replication_factor: topic.replicationFactor ?? -1,
            config: topic.config ?? {},
          },
          this.timeoutMs,
          (err) => done(err && err.code !== KafkaCodes.TOPIC_ALREADY_EXISTS ? err : null),
        ),
      );
    }
    await this.waitUntilReady(topics.map((t) => t.name));
  }

  /**
   * Creates one topic and waits until it has a leader everywhere. Returns false, creating
   * nothing, when it exists already. `partitions` or `replicationFactor` -1: the brokers' default.
   */
  async createTopic(topic: TopicSpec): Promise<boolean> {
    let created = true;
    await promised<void>('create topic ' + topic.name, (done) =>
      this.client.createTopic(
        { topic: topic.name, num_partitions: topic.partitions, replication_factor: topic.replicationFactor ?? -1, config: topic.config ?? {} },
        this.timeoutMs,
        (err) => {
          if (err && err.code === KafkaCodes.TOPIC_ALREADY_EXISTS) created = false;
          done(err && created ? err : null);
        },
      ),
    );
    if (created) await this.waitUntilReady([topic.name]);
    return created;
  }

  async deleteTopics(names: string[]): Promise<void> {
    for (const name of names) {
      await promised<void>('delete topic ' + name, (done) =>
        this.client.deleteTopic(name, this.timeoutMs, (err) =>
          done(err && err.code !== KafkaCodes.UNKNOWN_TOPIC_OR_PART ? err : null),
        ),
      );
    }
  }

  /**
   * Waits until none of `names` is listed any more (the brokers finish a deletion in the
   * background), so a topic of the same name can be created again at once. Gives up silently
   * after the admin's timeout.
   */
  async waitUntilDeleted(names: string[]): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while (names.length > 0 && Date.now() < deadline) {
      const listed = new Set(await this.listTopics());
      if (!names.some((name) => listed.has(name))) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Describes the topics that exist; missing ones, and ones the brokers cannot describe yet, are left out. */
  async describeTopics(names: string[]): Promise<TopicDescription[]> {
    return (await this.describeRaw(names))
      .filter((t) => !t.error)
      .map((t) => ({
        name: t.name,
        partitions: t.partitions.length,
        ready: t.partitions.length > 0 && t.partitions.every((p) => p.leader !== null),
      }));
  }

  /** Each partition's leader, replicas and in-sync replicas; undefined when the topic does not exist. */
  async topicLayout(name: string): Promise<TopicLayout | undefined> {
    const [description] = await this.describeRaw([name]);
    if (!description || description.error?.code === KafkaCodes.UNKNOWN_TOPIC_OR_PART) return undefined;
    if (description.error) throw kafkaError('describe topic ' + name, description.error);
    return {
      name,
      partitions: description.partitions
        .map((p) => ({ partition: p.partition, leader: p.leader?.id ?? null, replicas: p.replicas.map((r) => r.id), isr: p.isr.map((r) => r.id) }))
        .sort((a, b) => a.partition - b.partition),
    };
  }

  private describeRaw(names: string[]): Promise<Kafka.TopicDescription[]> {
    if (names.length === 0) return Promise.resolve([]); // the client refuses an empty list
    return promised<Kafka.TopicDescription[]>('describe topics', (done) =>
      this.client.describeTopics(names, { timeout: this.timeoutMs }, done),
    ).catch((err) => {
      if (err.kafkaCode === KafkaCodes.UNKNOWN_TOPIC_OR_PART) return [];
      throw err;
    });
  }

  /**
   * Earliest and latest offsets of every partition of `topic`, or none when the topic does not
   * exist. A partition the brokers cannot answer for yet (a leader moving, a broker still
   * starting) is asked again until the admin's timeout; then the error is thrown, never a guess.
   */
  async topicOffsets(topic: string): Promise<Array<{ partition: number; low: number; high: number }>> {
    const deadline = Date.now() + this.timeoutMs;
    for (let pauseMs = 50; ; pauseMs = Math.min(pauseMs * 2, 1_000)) {
      try {
        return await this.topicOffsetsOnce(topic);
      } catch (err) {
        if ((err instanceof KafkaOperationError && err.fatal) || Date.now() + pauseMs > deadline) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  private async topicOffsetsOnce(topic: string): Promise<Array<{ partition: number; low: number; high: number }>> {
    const [description] = await this.describeRaw([topic]);
    if (!description || description.error?.code === KafkaCodes.UNKNOWN_TOPIC_OR_PART) return [];
    if (description.error) throw kafkaError('describe topic ' + topic, description.error);
    const partitions = description.partitions.map((p) => p.partition).sort((a, b) => a - b);
    const list = async (offset: Kafka.OffsetSpec, which: string) => {
      const results = await promised<Kafka.ListOffsetsResult[]>(`list ${which} offsets of ${topic}`, (done) =>
        this.client.listOffsets(
          partitions.map((partition) => ({ topic, partition, offset })),
          { timeout: this.timeoutMs, isolationLevel: Kafka.IsolationLevel.READ_UNCOMMITTED },
          done,
        ),
      );
      return partitions.map((partition) => {
        const result = results.find((r) => r.partition === partition);
        if (result === undefined || result.error || result.offset < 0) {
          throw kafkaError(`list ${which} offset of ${topic}[${partition}]`, result?.error ?? { message: `no offset in the answer (${result?.offset ?? 'none'})`, isRetriable: true });
        }
        return result.offset;
      });
    };
    const [low, high] = await Promise.all([list(Kafka.OffsetSpec.EARLIEST, 'earliest'), list(Kafka.OffsetSpec.LATEST, 'latest')]);
    return partitions.map((partition, i) => ({ partition, low: low[i]!, high: high[i]! }));
  }

  /** Deletes each partition's records before the given offset (its log start moves there). */
  async deleteRecords(before: TopicPartitionOffset[]): Promise<void> {
    if (before.length === 0) return;
    const results = await promised<Kafka.DeleteRecordsResult[]>('delete records', (done) =>
      this.client.deleteRecords(before.map(({ topic, partition, offset }) => ({ topic, partition, offset })), { timeout: this.timeoutMs }, done),
    );
    const failed = results.find((r) => r.error);
    if (failed) throw kafkaError(`delete records of ${failed.topic}[${failed.partition}]`, failed.error);
  }

  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    const result = await promised<Kafka.GroupDescriptions>('describe groups', (done) =>
      this.client.describeGroups(groupIds, { timeout: this.timeoutMs }, done),
    );
    return result.groups.map((g) => ({
      groupId: g.groupId,
      state: GROUP_STATES.get(g.state) ?? 'UNKNOWN',
      protocol: g.protocol,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        ...(m.groupInstanceId ? { instanceId: m.groupInstanceId } : {}),
        clientId: m.clientId,
        host: m.clientHost,
        assignment: (m.assignment?.topicPartitions ?? []).map(({ topic, partition }) => ({ topic, partition })),
      })),
    }));
  }

  /** The offsets `groupId` has committed (all its partitions). */
  async groupOffsets(groupId: string): Promise<TopicPartitionOffset[]> {
    const [result] = await promised<Kafka.GroupResults[]>('list group offsets', (done) =>
      this.client.listConsumerGroupOffsets([{ groupId }], { timeout: this.timeoutMs, requireStableOffsets: true }, done),
    );
    return (result?.partitions ?? [])
      .filter((p) => p.offset >= 0)
      .map(({ topic, partition, offset }) => ({ topic, partition, offset }));
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    await promised('delete groups', (done) => this.client.deleteGroups(groupIds, { timeout: this.timeoutMs }, done));
  }

  disconnect(): void {
    this.client.disconnect();
  }

  private async waitUntilReady(names: string[]): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const described = await this.describeTopics(names);
      if (described.length === names.length && described.every((t) => t.ready)) return;
      if (Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
