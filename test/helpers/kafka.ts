import { randomUUID } from 'node:crypto';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { readTopicToEnd } from '../../engine/kafka/reader.ts';
import type { ConsumedRecord, RecordHeader } from '../../engine/kafka/records.ts';

/** The broker the root hook started or the environment named. */
export function bootstrapServers(): string {
  const servers = process.env.KAFKA_BOOTSTRAP_SERVERS;
  if (!servers) throw new Error('KAFKA_BOOTSTRAP_SERVERS is not set; the root hook should have started a broker.');
  return servers;
}

/** A topic name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTopic(name: string, partitions: number, config?: Record<string, string>): Promise<string> {
  const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
  try {
    // No time retention unless asked: tests write records with fixed dates, which the broker's
    // retention (7 days) would delete mid-test once those dates are a week old.
    await admin.createTopics([{ name, partitions, config: { 'retention.ms': '-1', ...config } }]);
  } finally {
    admin.disconnect();
  }
  return name;
}

/** Creates a uniquely named topic and returns its name. */
export function createUniqueTopic(prefix: string, partitions: number, config?: Record<string, string>): Promise<string> {
  return createTopic(uniqueName(prefix), partitions, config);
}

export interface TestRecord {
  key: string | null;
  /** Text, written as UTF-8; or bytes. */
  value: string | Buffer | null;
  partition?: number;
  headers?: RecordHeader[];
  /** Milliseconds since the epoch; default now. */
  timestamp?: number;
}

/** Produces records in the given order (keyed ones placed by murmur2) and waits for every ack. */
export async function produceRecords(topic: string, records: TestRecord[]): Promise<void> {
  const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
  try {
    await producer.loadPartitionCounts([topic]);
    for (const r of records) {
      producer.send({
        topic,
        key: r.key === null ? null : Buffer.from(r.key),
        value: r.value === null ? null : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value),
        partition: r.partition,
        headers: r.headers,
        timestamp: r.timestamp,
      });
    }
    await producer.flush();
  } finally {
    await producer.disconnect();
  }
}

/** Every record of the topic, per partition in offset order (read committed). */
export function readAll(topic: string, isolationLevel?: 'read_committed' | 'read_uncommitted'): Promise<ConsumedRecord[]> {
  return readTopicToEnd(topic, { bootstrapServers: bootstrapServers(), isolationLevel });
}

/**
 * The start of the hour before this one (ms): a base for record timestamps in tests. Recent on
 * purpose: brokers delete records older than a topic's time retention (a week by default, a day
 * past its windows for Kafka Streams' windowed changelogs, which carry event times), at a check
 * every few minutes, so a fixed date in the past makes a test pass or fail by when that check
 * runs. Whole hours keep windows of minutes and seconds aligned to it.
 */
export const RECENT_HOUR = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
