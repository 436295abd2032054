import type Kafka from '@confluentinc/kafka-javascript';
import { DeliveryError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { KafkaCodes } from './errors.ts';
import { recordSize } from './records.ts';

/** How often the end offsets of written tracked partitions are learnt after a flush, at most. */
const END_OFFSETS_EVERY_MS = 1_000;
/** The bound on learning one partition's end offset. */
const END_OFFSET_TIMEOUT_MS = 5_000;

/**
 * What the producer knows of the records it handed to the client: how many since the client's
 * last completed flush, which failed since the last look, the partitions of the topics asked
 * about (changelogs) written since the last flush and the end offsets learnt for them after it,
 * and the bounds learnt from the broker's refusals of records too large for their topic.
 *
 * The client reports failed deliveries only (`delivery.report.only.error`): a report per
 * acknowledged record costs the main thread an object, a copy of the key and an event, which
 * measured a sixth of a windowed aggregation's time. That every record was acknowledged is
 * learnt from the client's flush instead, and the offsets from the partitions' end offsets.
 */
export class Deliveries {
  /** Records handed to the client since its last completed flush. */
  unflushed = 0;
  /** Reports taken so far: {@link settle} waits until no more come. */
  private reports = 0;
  private failed = 0;
  private firstFailure: { error: unknown; topic: string; partition: number } | undefined;
  /** Failed deliveries since the last look that the broker refused as too large. */
  private tooLarge = 0;
  /** Topics whose broker refused records as too large: a bound below the size of the smallest refused. */
  private readonly topicLimits = new Map<string, number>();
  /** topic -> partition -> highest offset acknowledged, for the topics asked about. */
  private readonly delivered = new Map<string, number[]>();
  /** topic -> partitions of it written since the last flush, for the topics asked about. */
  private readonly written = new Map<string, Set<number>>();
  /** When the end offsets of the written partitions were last learnt (see {@link learnEndOffsets}). */
  private endOffsetsLearntAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly log: Logger) {}

  /** Takes a delivery report: a failure, or (when the client reports every record) an acknowledgement. */
  report(err: unknown, report: Kafka.DeliveryReport): void {
    this.reports++;
    if (!err) {
      if (this.delivered.size > 0) this.acknowledged(report.topic, report.partition, report.offset);
      return;
    }
    this.failed++;
    this.firstFailure ??= { error: err, topic: report.topic, partition: report.partition };
    if ((err as { code?: number }).code === KafkaCodes.MSG_SIZE_TOO_LARGE) this.learnLimit(report);
  }

  /** Notes a record handed to the client. */
  sent(topic: string, partition: number | undefined): void {
    this.unflushed++;
    if (partition === undefined || this.written.size === 0) return;
    this.written.get(topic)?.add(partition);
  }

  /**
   * Resolves once the client has handed over every report it queued before now. The client
   * queues a record's report before it counts the record as done, and hands reports over on
   * the event loop's poll phase: after a flush, two turns of the loop in which none arrive mean
   * that none are left (the first turn may run before that phase has looked).
   */
  async settle(): Promise<void> {
    for (let quiet = 0; quiet < 2; ) {
      const seen = this.reports;
      await new Promise<void>((resolve) => setImmediate(resolve));
      quiet = this.reports === seen ? quiet + 1 : 0;
    }
  }

  /** The failures since the last call, as one error (undefined when none); they are forgotten. */
  takeFailure(): DeliveryError | undefined {
    if (this.failed === 0) return undefined;
    const error = new DeliveryError(this.failed, this.firstFailure!, this.tooLarge);
    this.forgetFailures();
    return error;
  }

  /** Forgets everything unflushed, written and failed (a new client, or an aborted transaction's purge). */
  reset(): void {
    this.unflushed = 0;
    for (const partitions of this.written.values()) partitions.clear();
    this.forgetFailures();
  }

  private forgetFailures(): void {
    this.failed = 0;
    this.tooLarge = 0;
    this.firstFailure = undefined;
  }

  /** Remembers the highest acknowledged offset per partition of these topics (changelogs). */
  track(topics: Iterable<string>): void {
    for (const topic of topics) {
      if (this.delivered.has(topic)) continue;
      this.delivered.set(topic, []);
      this.written.set(topic, new Set());
    }
  }

  /**
   * After a flush, every record is acknowledged: a tracked partition written since now ends
   * with this producer's last record in it, so its end offset (`endOffset`) tells how far it is
   * acknowledged. Learnt at most once a second (the partitions written meanwhile wait for the
   * next time): an offset a little behind only makes a restore replay a little more. A
   * partition whose end cannot be learnt keeps the offset known before, for the same reason.
   */
  async learnEndOffsets(endOffset: (topic: string, partition: number, timeoutMs: number) => Promise<number>): Promise<void> {
    if (Date.now() - this.endOffsetsLearntAt < END_OFFSETS_EVERY_MS) return;
    const written = this.takeWritten();
    if (written.length === 0) return;
    this.endOffsetsLearntAt = Date.now();
    await Promise.all(
      written.map(async ([topic, partition]) => {
        try {
          this.acknowledged(topic, partition, (await endOffset(topic, partition, END_OFFSET_TIMEOUT_MS)) - 1);
        } catch (err) {
          this.log.warn({ topic, partition, err: (err as Error).message }, 'could not learn how far a partition is acknowledged; its store replays more of it if restored');
        }
      }),
    );
  }

  /** The tracked partitions written since the last call, as [topic, partition] pairs; forgotten. */
  private takeWritten(): Array<[string, number]> {
    const pairs: Array<[string, number]> = [];
    for (const [topic, partitions] of this.written) {
      for (const partition of partitions) pairs.push([topic, partition]);
      partitions.clear();
    }
    return pairs;
  }

  /** Every record of a tracked partition up to `offset` is acknowledged. */
  acknowledged(topic: string, partition: number, offset: number): void {
    const offsets = this.delivered.get(topic);
    if (offsets !== undefined && !(offsets[partition]! >= offset)) offsets[partition] = offset;
  }

  /** The highest offset acknowledged so far in this partition of a tracked topic. */
  offset(topic: string, partition: number): number | undefined {
    return this.delivered.get(topic)?.[partition];
  }

  /** The bound learnt for a topic, if the broker ever refused one of its records as too large. */
  limit(topic: string): number | undefined {
    return this.topicLimits.size === 0 ? undefined : this.topicLimits.get(topic);
  }

  /**
   * The broker refused a record as too large for its topic (whose `max.message.bytes` is below
   * the client's `message.max.bytes`): records of this size and larger are refused when sent
   * from now on, where their error handling applies.
   */
  private learnLimit(report: Kafka.DeliveryReport): void {
    this.tooLarge++;
    const refused = recordSize({ key: (report.key as Buffer | null | undefined) ?? null, value: null }) + (report.size ?? 0);
    const known = this.topicLimits.get(report.topic);
    if (known === undefined || refused - 1 < known) {
      this.topicLimits.set(report.topic, refused - 1);
      this.log.warn({ topic: report.topic, refusedBytes: refused }, 'the broker refused a record as too large for its topic; larger records of it are refused when sent from now on');
    }
  }
}
