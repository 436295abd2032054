/** One header as the Kafka client carries it: a single-key object. Keys may repeat. */
export type RecordHeader = { [key: string]: Buffer | string };

/** A record to produce. `partition` wins; otherwise a keyed record goes where murmur2 says. */
export interface ProducerRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  partition?: number;
  /** Milliseconds since the epoch; the broker's time when omitted. */
  timestamp?: number;
  headers?: RecordHeader[];
}

/** A record as consumed, bytes untouched. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: RecordHeader[] | undefined;
  /** The size of key and value in bytes, as the client reports it. */
  size: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A position in a partition: the offset of the next record to read. */
export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
  /** A string committed with the offset (a task's stream time; see runtime/task/task-metadata.ts). */
  metadata?: string | null;
}

/**
 * The bytes a record takes on the wire, as librdkafka counts them against `message.max.bytes`
 * before sending: key, value, each header's name and value, and the most a record's framing can
 * take (varint lengths, attributes, deltas).
 */
export function recordSize(record: { key: Buffer | null; value: Buffer | null; headers?: RecordHeader[] }): number {
  let size = 36 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  const headers = record.headers;
  if (headers !== undefined) {
    for (let i = 0; i < headers.length; i++) {
      const header = headers[i]!;
      for (const name in header) {
        const value = header[name]!;
        size += 10 + Buffer.byteLength(name) + (typeof value === 'string' ? Buffer.byteLength(value) : value.length);
      }
    }
  }
  return size;
}
