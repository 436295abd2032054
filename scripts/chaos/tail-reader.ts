import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaConsumer } from '../../engine/kafka/consumer.ts';
import { readRanges } from '../../engine/kafka/reader.ts';
import type { ConsumedRecord } from '../../engine/kafka/records.ts';

/** Reads partitions' watermarks and committed contents, with one consumer per isolation level. */
export class TailReader {
  private constructor(
    private readonly bootstrapServers: string,
    private readonly committed: KafkaConsumer,
    private readonly uncommitted: KafkaConsumer,
    private readonly progress?: (line: string) => void,
  ) {}

  static async connect(bootstrapServers: string, progress?: (line: string) => void): Promise<TailReader> {
    const options = { bootstrapServers };
    const [committed, uncommitted] = await Promise.all([
      KafkaConsumer.connect({ ...options, isolationLevel: 'read_committed' }),
      KafkaConsumer.connect({ ...options, isolationLevel: 'read_uncommitted' }),
    ]);
    return new TailReader(bootstrapServers, committed, uncommitted, progress);
  }

  /** Per partition: the low watermark, the last stable offset (read committed) and the high watermark. */
  async watermarks(topic: string): Promise<Array<{ partition: number; low: number; stable: number; high: number }>> {
    const admin = KafkaAdmin.connect({ bootstrapServers: this.bootstrapServers });
    let partitions: number;
    try {
      partitions = (await admin.topicOffsets(topic)).length;
    } finally {
      admin.disconnect();
    }
    const result = [];
    for (let partition = 0; partition < partitions; partition++) {
      const [stable, high] = await Promise.all([this.committed.watermarks(topic, partition), this.uncommitted.watermarks(topic, partition)]);
      result.push({ partition, low: high.low, stable: stable.high, high: high.high });
    }
    return result;
  }

  /**
   * Per partition, besides its watermarks: `end`, one past its last committed record (0 if it
   * has none), found by reading ever longer stretches before the last stable offset.
   */
  async ends(topic: string): Promise<Array<{ partition: number; stable: number; high: number; end: number }>> {
    const result = [];
    for (const { partition, low, stable, high } of await this.watermarks(topic)) {
      let end = 0;
      for (let window = 64; ; window *= 4) {
        const from = Math.max(low, stable - window);
        let last = -1;
        await readRanges(this.committed, [{ topic, partition, from, to: stable }], (records) => {
          for (const r of records) last = Math.max(last, r.offset);
        });
        this.committed.assign([]);
        if (last >= 0) end = last + 1;
        if (last >= 0 || from === low) break;
      }
      result.push({ partition, stable, high, end });
    }
    return result;
  }

  /** Every committed record of `topic` up to its last stable offsets, each partition in offset order. */
  async readCommitted(topic: string, onRecord: (record: ConsumedRecord) => void): Promise<number> {
    const ranges = (await this.watermarks(topic)).map(({ partition, low, stable }) => ({ topic, partition, from: low, to: stable }));
    let n = 0;
    const start = Date.now();
    await readRanges(this.committed, ranges, (records) => {
      n += records.length;
      for (const r of records) onRecord(r);
    });
    // An idle assignment keeps fetching, which slows the next watermark queries down.
    this.committed.assign([]);
    this.progress?.(`read ${n} committed records of ${topic} in ${Date.now() - start} ms`);
    return n;
  }

  async close(): Promise<void> {
    await Promise.all([this.committed.disconnect(), this.uncommitted.disconnect()]);
  }
}
