import { once } from 'node:events';
import { Command, Option } from 'commander';
import { ConfigError, UnknownTopicError } from '../errors.ts';
import { KafkaAdmin } from '../kafka/admin.ts';
import type { ConnectionOptions } from '../kafka/config.ts';
import { KafkaConsumer } from '../kafka/consumer.ts';
import type { TopicPartitionOffset } from '../kafka/records.ts';
import { type ConnectionFlags, resolveConnection, withConnectionOptions } from './connection.ts';
import { integerFlag } from './flags.ts';
import { DATA_FORMATS, type DataFormat, recordToLine } from './record-lines.ts';

interface ConsumeFlags extends ConnectionFlags {
  fromBeginning?: boolean;
  partition?: string;
  offset?: string;
  maxMessages?: string;
  timeoutMs?: string;
  keyFormat: DataFormat;
  valueFormat: DataFormat;
  isolationLevel: 'read_committed' | 'read_uncommitted';
}

/** When to stop reading: after so many records, or after so long without one. */
interface Limits {
  maxMessages?: number;
  timeoutMs?: number;
}

/**
 * `sluice consume <topic>`: prints records as JSON lines on standard output, outside any
 * consumer group (nothing is committed). Starts at the end unless told otherwise, like
 * kafka-console-consumer.
 */
export function consumeCommand(): Command {
  return withConnectionOptions(
    new Command('consume')
      .description('print the records of a topic as JSON lines {topic, partition, offset, timestamp, key, value, headers}; no consumer group, nothing committed')
      .argument('<topic>')
      .option('--from-beginning', 'start at the earliest record of each partition (default: only records written from now on)')
      .option('--partition <n>', 'read only this partition')
      .option('--offset <offset>', 'start at this offset (with --partition), or at earliest or latest')
      .option('--max-messages <n>', 'exit after this many records')
      .option('--timeout-ms <ms>', 'exit when no record arrives for this long')
      .addOption(new Option('--key-format <format>', 'how keys are printed: auto (JSON, else text, else base64), text or base64').choices(DATA_FORMATS).default('auto'))
      .addOption(new Option('--value-format <format>', 'how values are printed: auto (JSON, else text, else base64), text or base64').choices(DATA_FORMATS).default('auto'))
      .addOption(new Option('--isolation-level <level>', 'read_committed skips records of aborted transactions').choices(['read_committed', 'read_uncommitted']).default('read_committed')),
  ).action(async (topic: string, flags: ConsumeFlags) => {
    const limits: Limits = { maxMessages: integerFlag(flags.maxMessages, '--max-messages'), timeoutMs: integerFlag(flags.timeoutMs, '--timeout-ms') };
    const connection = await resolveConnection(flags);
    const start = await startPositions(connection, topic, flags);
    const count = await consume(connection, start, flags, limits);
    process.stderr.write(`Consumed ${count} record${count === 1 ? '' : 's'}.\n`);
  });
}

/** Where each partition to read starts, from the flags and the topic's current offsets. */
async function startPositions(connection: ConnectionOptions, topic: string, flags: ConsumeFlags): Promise<TopicPartitionOffset[]> {
  const partition = integerFlag(flags.partition, '--partition', 0);
  const offsetText = flags.offset ?? (flags.fromBeginning ? 'earliest' : 'latest');
  if (flags.offset !== undefined && flags.fromBeginning) throw new ConfigError('Pass --from-beginning or --offset, not both.');
  const offset = offsetText === 'earliest' || offsetText === 'latest' ? offsetText : integerFlag(offsetText, '--offset', 0)!;
  if (typeof offset === 'number' && partition === undefined) throw new ConfigError('--offset with a number needs --partition: offsets are per partition.');
  const admin = KafkaAdmin.connect(connection);
  let offsets: Array<{ partition: number; low: number; high: number }>;
  try {
    offsets = await admin.topicOffsets(topic);
  } finally {
    admin.disconnect();
  }
  if (offsets.length === 0) throw new UnknownTopicError(topic);
  const chosen = partition === undefined ? offsets : offsets.filter((o) => o.partition === partition);
  if (chosen.length === 0) throw new ConfigError(`--partition ${partition}: ${topic} has partitions 0 to ${offsets.length - 1}.`);
  return chosen.map((o) => ({ topic, partition: o.partition, offset: offset === 'earliest' ? o.low : offset === 'latest' ? o.high : offset }));
}

/** Reads and prints until a limit is reached, a signal comes or standard output closes; returns the count. */
async function consume(connection: ConnectionOptions, start: TopicPartitionOffset[], flags: ConsumeFlags, limits: Limits): Promise<number> {
  const consumer = await KafkaConsumer.connect({ ...connection, isolationLevel: flags.isolationLevel });
  let stopped = false;
  const stop = () => (stopped = true);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.on('error', stop); // EPIPE: the reader went away (| head)
  const formats = { key: flags.keyFormat, value: flags.valueFormat };
  let count = 0;
  let lastRecordAt = Date.now();
  try {
    consumer.assign(start);
    while (!stopped && !(limits.maxMessages !== undefined && count >= limits.maxMessages)) {
      const wanted = limits.maxMessages === undefined ? 1_000 : Math.min(1_000, limits.maxMessages - count);
      const records = await consumer.consume(wanted, 100);
      if (records.length === 0) {
        if (limits.timeoutMs !== undefined && Date.now() - lastRecordAt >= limits.timeoutMs) break;
        continue;
      }
      lastRecordAt = Date.now();
      const lines = records.map((record) => recordToLine(record, formats) + '\n').join('');
      count += records.length;
      if (!process.stdout.write(lines) && !stopped) await Promise.race([once(process.stdout, 'drain'), once(process.stdout, 'close')]);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.stdout.off('error', stop);
    await consumer.disconnect();
  }
  return count;
}
