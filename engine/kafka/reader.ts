import { OperationTimeoutError } from '../errors.ts';
import { KafkaAdmin } from './admin.ts';
import type { ClientProperties, ConnectionOptions } from './config.ts';
import { KafkaConsumer } from './consumer.ts';
import type { ConsumedRecord } from './records.ts';

/** A stretch of one partition: `from` inclusive, `to` exclusive. */
export interface PartitionRange {
  topic: string;
  partition: number;
  from: number;
  to: number;
}

/**
 * Consumer properties for reading ranges in bulk (restoration): librdkafka's own generous
 * read-ahead (up to 100,000 messages or 64 MB queued, fetches of up to 50 MB) instead of the
 * processing consumer's one batch ahead. Such a consumer lives only while it reads, and what it
 * reads goes straight to storage.
 */
export const BULK_READ: ClientProperties = {
  'queued.min.messages': 100_000,
  'queued.max.messages.kbytes': 65_536,
  'fetch.max.bytes': 52_428_800,
};

export interface ReadRangesOptions {
  /** Fails when no range makes progress for this long. Default 60 s. */
  stallTimeoutMs?: number;
  maxBatch?: number;
}

/**
 * Reads partition ranges with `consumer` (which it assigns), handing records to `onBatch` in
 * batches, each partition in offset order; `onBatch` is called for one batch at a time. The next
 * batch is fetched while `onBatch` handles the previous one, its synchronous part included (the
 * fetch is requested before `onBatch` is called), so the handler's work (a LevelDB batch) and the
 * client's overlap. Under read_committed, aborted records and markers never arrive: a range ends
 * when the consumer's position reaches `to`, not when a record with offset `to - 1` is seen.
 * Records of a range deleted meanwhile (below the partition's log start) are skipped: the range
 * resumes at the log start, or ends when nothing of it is left. The consumer must reset to the
 * earliest offset (the default of {@link KafkaConsumer}).
 */
export async function readRanges(
  consumer: KafkaConsumer,
  ranges: PartitionRange[],
  onBatch: (records: ConsumedRecord[]) => Promise<void> | void,
  options: ReadRangesOptions = {},
): Promise<void> {
  const open = new Map(ranges.filter((r) => r.to > r.from).map((r) => [key(r.topic, r.partition), r]));
  if (open.size === 0) return;
  consumer.assign([...open.values()].map(({ topic, partition, from }) => ({ topic, partition, offset: from })));
  const stallMs = options.stallTimeoutMs ?? 60_000;
  const maxBatch = options.maxBatch ?? 10_000;
  let lastProgress = Date.now();
  let handling: Promise<void> = Promise.resolve();
  let next: Promise<ConsumedRecord[]> | undefined = consumer.consume(maxBatch, 200);
  try {
    while (next !== undefined) {
      // `batch` and `wanted` are cleared once handed on: an async function's frame would keep
      // them (and every record) alive through the next fetch, into V8's old generation.
      let batch: ConsumedRecord[] | undefined = await next;
      next = undefined;
      let wanted: ConsumedRecord[] | undefined = [];
      // Records come in runs of one partition: look the range up once per run.
      let runTopic: string | undefined;
      let runPartition = -1;
      let range: PartitionRange | undefined;
      for (let i = 0; i < batch.length; i++) {
        const record = batch[i]!;
        if (record.partition !== runPartition || record.topic !== runTopic) {
          runTopic = record.topic;
          runPartition = record.partition;
          range = open.get(key(runTopic, runPartition));
        }
        if (range === undefined || record.offset >= range.to) continue;
        wanted.push(record);
        if (record.offset + 1 >= range.to) {
          open.delete(key(record.topic, record.partition));
          range = undefined;
        }
      }
      const empty = batch.length === 0;
      batch = undefined;
      if (empty && open.size > 0) {
        for (const { topic, partition, offset } of consumer.position([...open.values()])) {
          const range = open.get(key(topic, partition))!;
          if (offset >= range.to || logStart(consumer, range) >= range.to) open.delete(key(topic, partition));
        }
        if (Date.now() - lastProgress > stallMs) {
          throw new OperationTimeoutError(
            'Reading partitions to their end',
            stallMs,
            `No progress on ${[...open.keys()].join(', ')}; check that the brokers are reachable.`,
          );
        }
      }
      if (open.size > 0) next = consumer.consume(maxBatch, 200);
      await handling;
      if (wanted.length > 0) {
        lastProgress = Date.now();
        handling = Promise.resolve(onBatch(wanted));
        // Its failure surfaces at the next `await handling`; until then it is not unhandled.
        handling.catch(() => undefined);
      }
      wanted = undefined;
    }
    await handling;
  } finally {
    // Never leave a fetch running on a consumer the caller may disconnect next.
    await next?.catch(() => undefined);
  }
}

/**
 * Where the partition's log now starts, as the last fetch answer said (no request is made), or -1
 * before one came. Records below it were deleted (a repartition topic purged up to committed
 * positions, retention): a range that started below it resumes there (the consumer resets to the
 * earliest offset), and one that ends at or before it has nothing left to read; the consumer's
 * position, which only a record read sets, would never reach its end.
 */
function logStart(consumer: KafkaConsumer, range: PartitionRange): number {
  return consumer.cachedWatermarks(range.topic, range.partition)?.low ?? -1;
}

function key(topic: string, partition: number): string {
  return `${topic}[${partition}]`;
}

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
  const admin = KafkaAdmin.connect(options);
  let offsets;
  try {
    offsets = await admin.topicOffsets(topic);
  } finally {
    admin.disconnect();
  }
  const wanted = offsets.filter((o) => !options.partitions || options.partitions.includes(o.partition));
  const byPartition = new Map<number, ConsumedRecord[]>(wanted.map((o) => [o.partition, []]));
  const consumer = await KafkaConsumer.connect({ ...options, isolationLevel: options.isolationLevel ?? 'read_committed' });
  try {
    await readRanges(
      consumer,
      wanted.map((o) => ({ topic, partition: o.partition, from: o.low, to: o.high })),
      (records) => {
        for (const record of records) byPartition.get(record.partition)!.push(record);
      },
      { stallTimeoutMs: options.timeoutMs },
    );
  } finally {
    await consumer.disconnect();
  }
  return [...byPartition.keys()].sort((a, b) => a - b).flatMap((p) => byPartition.get(p)!);
}
