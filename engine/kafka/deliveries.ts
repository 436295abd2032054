import type Kafka from '@confluentinc/kafka-javascript';
import { DeliveryError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { KafkaCodes } from './errors.ts';
import { recordSize } from './records.ts';

/**
 * What the producer knows of the records it handed to the client: how many await their
 * delivery report, which failed since the last look, the highest offset acknowledged per
 * partition of the topics asked about (changelogs), and the bounds learnt from the broker's
 * refusals of records too large for their topic. Waiters are woken when nothing is pending.
 */
export class Deliveries {
  /** Records handed to the client whose delivery report has not come. */
  pending = 0;
  private failed = 0;
  private firstFailure: { error: unknown; topic: string; partition: number } | undefined;
  /** Failed deliveries since the last look that the broker refused as too large. */
  private tooLarge = 0;
  /** Topics whose broker refused records as too large: a bound below the size of the smallest refused. */
  private readonly topicLimits = new Map<string, number>();
  /** topic -> partition -> highest offset acknowledged, for the topics asked about. */
  private readonly delivered = new Map<string, number[]>();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly log: Logger) {}

  /** Takes a delivery report. */
  report(err: unknown, report: Kafka.DeliveryReport): void {
    this.pending--;
    if (err) {
      this.failed++;
      this.firstFailure ??= { error: err, topic: report.topic, partition: report.partition };
      if ((err as { code?: number }).code === KafkaCodes.MSG_SIZE_TOO_LARGE) this.learnLimit(report);
    } else if (this.delivered.size > 0) {
      const offsets = this.delivered.get(report.topic);
      if (offsets !== undefined && !(offsets[report.partition]! >= report.offset)) offsets[report.partition] = report.offset;
    }
    if (this.pending === 0) this.wake();
  }

  /** The failures since the last call, as one error (undefined when none); they are forgotten. */
  takeFailure(): DeliveryError | undefined {
    if (this.failed === 0) return undefined;
    const error = new DeliveryError(this.failed, this.firstFailure!, this.tooLarge);
    this.forgetFailures();
    return error;
  }

  /** Forgets everything pending and failed (a new client, or an aborted transaction's purge). */
  reset(): void {
    this.pending = 0;
    this.forgetFailures();
    this.wake();
  }

  private forgetFailures(): void {
    this.failed = 0;
    this.tooLarge = 0;
    this.firstFailure = undefined;
  }

  /** Remembers the highest acknowledged offset per partition of these topics (changelogs). */
  track(topics: Iterable<string>): void {
    for (const topic of topics) if (!this.delivered.has(topic)) this.delivered.set(topic, []);
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

  /** Wakes whoever waits for nothing to be pending (also when waiting is pointless: a fatal error). */
  wake(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once nothing is pending, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.pending === 0 || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }
}
