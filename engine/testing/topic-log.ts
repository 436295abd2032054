import type { ConsumedRecord, ProducerRecord } from '../kafka/records.ts';
import type { RecordOutput } from '../runtime/record-output.ts';

/**
 * The test driver's topics, in memory: one partition each, every record kept with its offset.
 * It is what the tasks send to (outputs, changelogs, dead letters); a record sent to a topic the
 * topology reads (a repartition topic, or a user topic another sub-topology reads) is also
 * queued for processing, as a broker would deliver it.
 */
export class TopicLog implements RecordOutput {
  private readonly topics = new Map<string, ConsumedRecord[]>();
  /** Records waiting to be processed, in the order they were written. */
  private pending: ConsumedRecord[] = [];

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
    if (this.read.has(record.topic)) this.pending.push(consumed);
    return consumed;
  }

  /** How many records wait to be processed. */
  get waiting(): number {
    return this.pending.length;
  }

  /** The records waiting to be processed, oldest first; they are no longer waiting. */
  takePending(): ConsumedRecord[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
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
