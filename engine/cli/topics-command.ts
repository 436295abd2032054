import { Command, Option } from 'commander';
import { ConfigError, TopicExistsError, UnknownTopicError } from '../errors.ts';
import { KafkaAdmin, type TopicLayout } from '../kafka/admin.ts';
import { type ConnectionFlags, resolveConnection, withConnectionOptions } from './connection.ts';
import { collect, integerFlag, parseAssignments } from './flags.ts';

/** One topic as `sluice topics describe --format json` prints it (a contract). */
export interface TopicReport {
  name: string;
  replicationFactor: number;
  partitions: Array<{ partition: number; leader: number | null; replicas: number[]; isr: number[]; low: number; high: number }>;
}

/** `sluice topics create|list|describe|delete`: topic administration, as kafka-topics does it. */
export function topicsCommand(): Command {
  const command = new Command('topics').description('create, list, describe and delete topics');

  withConnectionOptions(
    command
      .command('create')
      .description('create a topic (fails when it exists, unless --if-not-exists)')
      .argument('<topic>')
      .option('--partitions <n>', "number of partitions (default: the brokers' num.partitions)")
      .option('--replication-factor <n>', "replicas per partition (default: the brokers' default.replication.factor)")
      .addOption(new Option('--config <key=value>', 'a topic configuration, e.g. cleanup.policy=compact (repeatable)').argParser(collect))
      .option('--if-not-exists', 'succeed when the topic exists already (its settings are left as they are)'),
  ).action(async (topic: string, flags: ConnectionFlags & { partitions?: string; replicationFactor?: string; config?: string[]; ifNotExists?: boolean }) => {
    checkTopicName(topic);
    const partitions = integerFlag(flags.partitions, '--partitions');
    const replicationFactor = integerFlag(flags.replicationFactor, '--replication-factor');
    const config = parseAssignments(flags.config ?? [], '--config');
    await withAdmin(flags, async (admin) => {
      const created = await admin.createTopic({ name: topic, partitions: partitions ?? -1, replicationFactor: replicationFactor ?? -1, config });
      if (!created && !flags.ifNotExists) throw new TopicExistsError(topic);
      const layout = created ? await admin.topicLayout(topic) : undefined;
      process.stdout.write(
        created
          ? `Created topic ${topic} (${layout?.partitions.length ?? partitions} partitions, replication factor ${layout?.partitions[0]?.replicas.length ?? replicationFactor}).\n`
          : `Topic ${topic} exists already; left as it is.\n`,
      );
    });
  });

  withConnectionOptions(
    command
      .command('list')
      .description('print the names of the topics, one a line, sorted')
      .option('--exclude-internal', "leave out the brokers' own topics (__consumer_offsets, __transaction_state, ...)"),
  ).action(async (flags: ConnectionFlags & { excludeInternal?: boolean }) => {
    await withAdmin(flags, async (admin) => {
      const names = (await admin.listTopics()).filter((name) => !(flags.excludeInternal && name.startsWith('__'))).sort();
      process.stdout.write(names.map((name) => name + '\n').join(''));
    });
  });

  withConnectionOptions(
    command
      .command('describe')
      .description("print each topic's partitions: leader, replicas, in-sync replicas, earliest and latest offsets")
      .argument('<topics...>')
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text')),
  ).action(async (topics: string[], flags: ConnectionFlags & { format: 'text' | 'json' }) => {
    await withAdmin(flags, async (admin) => {
      const reports: TopicReport[] = [];
      for (const topic of topics) reports.push(await describeTopic(admin, topic));
      process.stdout.write(flags.format === 'json' ? JSON.stringify(reports, null, 2) + '\n' : reports.map(describeText).join(''));
    });
  });

  withConnectionOptions(
    command
      .command('delete')
      .description('delete topics and every record in them (fails for a missing topic, unless --if-exists)')
      .argument('<topics...>')
      .option('--if-exists', 'succeed when a topic does not exist'),
  ).action(async (topics: string[], flags: ConnectionFlags & { ifExists?: boolean }) => {
    await withAdmin(flags, async (admin) => {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t));
      if (missing.length > 0 && !flags.ifExists) throw new UnknownTopicError(missing[0]!, 'Nothing was deleted; pass --if-exists to skip missing topics.');
      const present = topics.filter((t) => existing.has(t));
      await admin.deleteTopics(present);
      await admin.waitUntilDeleted(present);
      for (const topic of present) process.stdout.write(`Deleted topic ${topic}.\n`);
      for (const topic of missing) process.stdout.write(`Topic ${topic} does not exist; nothing to delete.\n`);
    });
  });
  return command;
}

async function describeTopic(admin: KafkaAdmin, topic: string): Promise<TopicReport> {
  const layout: TopicLayout | undefined = await admin.topicLayout(topic);
  if (!layout) throw new UnknownTopicError(topic);
  const offsets = await admin.topicOffsets(topic);
  return {
    name: topic,
    replicationFactor: layout.partitions[0]?.replicas.length ?? 0,
    partitions: layout.partitions.map((p) => {
      const o = offsets.find((x) => x.partition === p.partition);
      return { ...p, low: o?.low ?? 0, high: o?.high ?? 0 };
    }),
  };
}

/** kafka-topics' layout, with each partition's offsets added. */
function describeText(report: TopicReport): string {
  const records = report.partitions.reduce((sum, p) => sum + p.high - p.low, 0);
  const lines = [`Topic: ${report.name}\tPartitions: ${report.partitions.length}\tReplicationFactor: ${report.replicationFactor}\tRecords: ${records}`];
  for (const p of report.partitions) {
    lines.push(`\tPartition: ${p.partition}\tLeader: ${p.leader ?? 'none'}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\tOffsets: ${p.low}..${p.high}`);
  }
  return lines.join('\n') + '\n';
}

async function withAdmin(flags: ConnectionFlags, work: (admin: KafkaAdmin) => Promise<void>): Promise<void> {
  const admin = KafkaAdmin.connect(await resolveConnection(flags));
  try {
    await work(admin);
  } finally {
    admin.disconnect();
  }
}

/** Kafka's rule for topic names, checked before asking the brokers. */
export function checkTopicName(topic: string): void {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic) || topic === '.' || topic === '..') {
    throw new ConfigError(`"${topic}" is not a valid topic name: use 1 to 249 of the characters a-z, A-Z, 0-9, ".", "_" and "-" (not "." or "..").`);
  }
}
