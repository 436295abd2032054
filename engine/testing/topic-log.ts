import type { ConsumedRecord, ProducerRecord, TopicPartition, TopicPartitionOffset } from '../kafka/records.ts';
import type { LoopOutput, RecordSource } from '../runtime/record-source.ts';

/**
 * The test driver's topics, in memory: one partition each, every record kept with its offset.
 * It is both ends of the processing loop: what the tasks send to (outputs, changelogs, dead
 * letters), and, for the topics the topology reads (input topics, repartition topics), where
 * the loop takes records from, in the order they were written, with committed positions a
 * rewind goes back to, as a consumer's.
 */
export class TopicLog implements LoopOutput, RecordSource {
  private readonly topics = new Map<string, ConsumedRecord[]>();
  /** Every record written to a topic the topology reads, in the order written. */
  private readonly written: ConsumedRecord[] = [];
  /** Records waiting to be consumed, oldest first (a suffix of what was written, per topic). */
  private pending: ConsumedRecord[] = [];
  /** Per topic read: the offset after the last record committed. */
  private readonly committedOffsets = new Map<string, number>();

  constructor(
    private readonly read: ReadonlySet<string>,
    private readonly clock: () => number,
  ) {}

  send(record: ProducerRecord): void {
    this.append(record);
  }

  /** Writes a record and returns it as a consumer would see it. */
  append(record: ProducerRecord): ConsumedRecord {
    let log = this.topics.get(record.topic);
    if (!log) this.topics.set(record.topic, (log = []));
    const consumed: ConsumedRecord = {
      topic: record.topic,
      partition: 0,
      offset: log.length,
      key: record.key,
      value: record.value,
      timestamp: record.timestamp ?? this.clock(),
      headers: record.headers,
      size: (record.key?.length ?? 0) + (record.value?.length ?? 0),
    };
    log.push(consumed);
    if (this.read.has(record.topic)) {
      this.written.push(consumed);
      this.pending.push(consumed);
    }
    return consumed;
  }

  /** How many records wait to be consumed. */
  get waiting(): number {
    return this.pending.length;
  }

  /** The records waiting, oldest first, up to `max`; they are consumed. */
  async consume(max: number): Promise<ConsumedRecord[]> {
    const taken = this.pending.length <= max ? this.pending : this.pending.slice(0, max);
    this.pending = this.pending.length <= max ? [] : this.pending.slice(max);
    return taken;
  }

  /** Whether records of this topic wait to be consumed (the driver has one partition per topic). */
  hasUndelivered(topic: string): boolean {
    return this.pending.some((r) => r.topic === topic);
  }

  /** Takes note of committed positions (the in-process commit protocol's commit). */
  commit(offsets: TopicPartitionOffset[]): void {
    for (const { topic, offset } of offsets) this.committedOffsets.set(topic, Math.max(offset, this.committedOffsets.get(topic) ?? 0));
  }

  /** Everything written after the committed positions of these topics waits to be consumed again. */
  /** The driver's topics hold no transaction markers: what was taken is what was processed. */
  consumedUpTo(): undefined {
    return undefined;
  }

  /** The driver delivers every record at once: nothing to pause. */
  pause(): void {}

  resume(): void {}

  async seekToCommitted(partitions: TopicPartition[]): Promise<void> {
    const topics = new Set(partitions.map((p) => p.topic));
    const others = this.pending.filter((r) => !topics.has(r.topic));
    const again = this.written.filter((r) => topics.has(r.topic) && r.offset >= (this.committedOffsets.get(r.topic) ?? 0));
    const order = new Map(this.written.map((r, i) => [r, i]));
    this.pending = [...others, ...again].sort((a, b) => order.get(a)! - order.get(b)!);
  }

  /** One record of a topic, by offset. */
  record(topic: string, offset: number): ConsumedRecord | undefined {
    return this.topics.get(topic)?.[offset];
  }

  /** Every record of a topic, from offset `from`. */
  records(topic: string, from = 0): ConsumedRecord[] {
    return (this.topics.get(topic) ?? []).slice(from);
  }

  size(topic: string): number {
    return this.topics.get(topic)?.length ?? 0;
  }

  /** Records are written at once: nothing is ever in flight. */
  get inFlight(): number {
    return 0;
  }

  async flush(): Promise<void> {}

  /** Topics in memory take records of any size. */
  recordLimit(): number {
    return Number.POSITIVE_INFINITY;
  }

  deliveredOffset(topic: string, partition: number): number | undefined {
    if (partition !== 0) return undefined;
    const size = this.size(topic);
    return size === 0 ? undefined : size - 1;
  }
}
