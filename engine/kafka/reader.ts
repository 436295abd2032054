import { OperationTimeoutError } from '../errors.ts';
import { KafkaAdmin } from './admin.ts';
import type { ConnectionOptions } from './config.ts';
import { KafkaConsumer } from './consumer.ts';
import type { ConsumedRecord } from './records.ts';

export interface ReadToEndOptions extends ConnectionOptions {
  /** `read_committed` (default) stops at the last stable offset and skips aborted records. */
  isolationLevel?: 'read_committed' | 'read_uncommitted';
  /** Only these partitions; all by default. */
  partitions?: number[];
  timeoutMs?: number;
}

/**
 * Reads every record of `topic` from the beginning to the end it had when the call started.
 * Records come grouped by partition, each partition in offset order.
 *
 * @example
 * ```ts
 * const records = await readTopicToEnd('orders', { bootstrapServers });
 * ```
 */
export async function readTopicToEnd(topic: string, options: ReadToEndOptions = {}): Promise<ConsumedRecord[]> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const admin = KafkaAdmin.connect(options);
  let offsets;
  try {
    offsets = await admin.topicOffsets(topic);
  } finally {
    admin.disconnect();
  }
  const wanted = offsets.filter((o) => o.high > o.low && (!options.partitions || options.partitions.includes(o.partition)));
  if (wanted.length === 0) return [];

  const consumer = await KafkaConsumer.connect({ ...options, isolationLevel: options.isolationLevel ?? 'read_committed' });
  const byPartition = new Map<number, ConsumedRecord[]>(wanted.map((o) => [o.partition, []]));
  // The end of a partition: under read_committed, records past the last stable offset, aborted
  // records and transaction markers never arrive, so "done" is reaching the high watermark's
  // position rather than a record with offset high - 1.
  const remaining = new Map(wanted.map((o) => [o.partition, o.high]));
  try {
    consumer.assign(wanted.map((o) => ({ topic, partition: o.partition, offset: o.low })));
    const deadline = Date.now() + timeoutMs;
    while (remaining.size > 0) {
      if (Date.now() > deadline) {
        throw new OperationTimeoutError(
          `Reading ${topic} to its end`,
          timeoutMs,
          `Partitions ${[...remaining.keys()].join(', ')} did not reach their end offsets.`,
        );
      }
      const batch = await consumer.consume(10_000, 200);
      for (const record of batch) {
        const end = remaining.get(record.partition);
        if (end === undefined) continue;
        if (record.offset < end) byPartition.get(record.partition)!.push(record);
        if (record.offset + 1 >= end) remaining.delete(record.partition);
      }
      if (batch.length === 0) dropFinishedPartitions(consumer, topic, remaining);
    }
  } finally {
    await consumer.disconnect();
  }
  return [...byPartition.keys()].sort((a, b) => a - b).flatMap((p) => byPartition.get(p)!);
}

/** A partition whose position has reached its end offset has nothing more to give. */
function dropFinishedPartitions(consumer: KafkaConsumer, topic: string, remaining: Map<number, number>): void {
  const positions = consumer.position(
    [...remaining.keys()].map((partition) => ({ topic, partition })),
  );
  for (const { partition, offset } of positions) {
    const end = remaining.get(partition);
    if (end !== undefined && offset >= end) remaining.delete(partition);
  }
}
