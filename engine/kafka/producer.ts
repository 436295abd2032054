import Kafka from '@confluentinc/kafka-javascript';
import { DeliveryError, OperationTimeoutError, type KafkaOperationError } from '../errors.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { baseProperties, type ConnectionOptions } from './config.ts';
import { KafkaCodes, kafkaError, promised } from './errors.ts';
import { partitionForKey } from './murmur2.ts';
import type { ProducerRecord } from './records.ts';

export interface ProducerOptions extends ConnectionOptions {
  /** Idempotent delivery (no duplicates from retries, order kept per partition). Default true. */
  idempotent?: boolean;
  logger?: Logger;
}

/**
 * A Kafka producer for batches. `send` is synchronous and never awaits a record: it enqueues
 * and counts. `flush` waits, once per batch, until every record sent so far is acknowledged
 * and throws a {@link DeliveryError} if any was not. Keyed records without an explicit
 * partition are placed with murmur2, as Java clients place them.
 *
 * @example
 * ```ts
 * const producer = await KafkaProducer.connect({ bootstrapServers: '127.0.0.1:9092' });
 * await producer.loadPartitionCounts(['orders']);
 * producer.send({ topic: 'orders', key: Buffer.from('o-1'), value: Buffer.from('{}') });
 * await producer.flush();
 * ```
 */
export class KafkaProducer {
  private readonly client: Kafka.Producer;
  private readonly log: Logger;
  private readonly partitionCounts = new Map<string, number>();
  /** Records refused by a full local queue, sent again by `flush` in order. */
  private backlog: ProducerRecord[] = [];
  private pending = 0;
  private failed = 0;
  private firstFailure: unknown;
  private fatal: KafkaOperationError | undefined;
  private idleWaiters: Array<() => void> = [];
  /** topic -> partition -> highest offset acknowledged, for the topics asked about. */
  private readonly delivered = new Map<string, number[]>();

  private constructor(client: Kafka.Producer, log: Logger) {
    this.client = client;
    this.log = log;
  }

  static async connect(options: ProducerOptions = {}): Promise<KafkaProducer> {
    const log = options.logger ?? createLogger({ component: 'producer' });
    const client = new Kafka.Producer({
      ...baseProperties(options),
      'enable.idempotence': options.idempotent ?? true,
      // Same placement as the Java client for any record we do not place ourselves.
      partitioner: 'murmur2_random',
      'linger.ms': 5,
      'queue.buffering.max.messages': 500_000,
      'queue.buffering.max.kbytes': 512 * 1024,
      dr_cb: true,
      ...options.properties,
    });
    const producer = new KafkaProducer(client, log);
    client.on('delivery-report', (err, report) => producer.onDelivery(err, report));
    client.on('event.error', (err) => producer.onClientError(err));
    await promised('connect producer', (done) => client.connect({ timeout: 30_000 }, done));
    client.setPollInBackground(true);
    return producer;
  }

  /** Learns the partition counts of `topics`, so keyed records are placed by murmur2 here. */
  async loadPartitionCounts(topics: string[], timeoutMs = 30_000): Promise<void> {
    for (const topic of topics) {
      const metadata = await promised<Kafka.Metadata>('fetch metadata', (done) =>
        this.client.getMetadata({ topic, timeout: timeoutMs }, done),
      );
      const found = metadata.topics.find((t) => t.name === topic);
      if (found && found.partitions.length > 0) this.partitionCounts.set(topic, found.partitions.length);
    }
  }

  /** Remembers the highest acknowledged offset per partition of these topics (changelogs). */
  trackDeliveredOffsets(topics: Iterable<string>): void {
    for (const topic of topics) if (!this.delivered.has(topic)) this.delivered.set(topic, []);
  }

  /** The highest offset acknowledged so far in this partition of a tracked topic. */
  deliveredOffset(topic: string, partition: number): number | undefined {
    return this.delivered.get(topic)?.[partition];
  }

  /** The partition count learnt for `topic`, if any. */
  partitionCount(topic: string): number | undefined {
    return this.partitionCounts.get(topic);
  }

  /** Enqueues one record; never waits. Throws only if the producer has failed fatally. */
  send(record: ProducerRecord): void {
    if (this.fatal) throw this.fatal;
    if (record.partition === undefined && record.key !== null) {
      const count = this.partitionCounts.get(record.topic);
      if (count !== undefined) record.partition = partitionForKey(record.key, count);
    }
    if (this.backlog.length > 0 || !this.tryProduce(record)) this.backlog.push(record);
  }

  /** Records sent but not yet acknowledged (including any waiting for room in the queue). */
  get inFlight(): number {
    return this.pending + this.backlog.length;
  }

  /**
   * Waits until every record sent so far is acknowledged. Throws {@link DeliveryError} if any
   * failed since the last flush, and {@link OperationTimeoutError} past `timeoutMs`.
   */
  async flush(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.backlog.length > 0) {
      this.drainBacklog();
      if (this.backlog.length > 0) await this.waitForIdle(Math.min(50, deadline - Date.now()));
      if (Date.now() >= deadline) break;
    }
    this.client.flush(0);
    if (this.pending > 0) await this.waitForIdle(deadline - Date.now());
    if (this.fatal) throw this.fatal;
    if (this.inFlight > 0) {
      throw new OperationTimeoutError(
        'Waiting for delivery acknowledgements',
        timeoutMs,
        `${this.inFlight} record(s) are still unacknowledged; check that the brokers are reachable.`,
      );
    }
    if (this.failed > 0) {
      const error = new DeliveryError(this.failed, this.firstFailure);
      this.failed = 0;
      this.firstFailure = undefined;
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    try {
      await this.flush(30_000);
    } finally {
      await promised('disconnect producer', (done) => this.client.disconnect(10_000, done)).catch((err) =>
        this.log.warn({ err }, 'producer did not disconnect cleanly'),
      );
    }
  }

  private tryProduce(record: ProducerRecord): boolean {
    try {
      this.client.produce(
        record.topic,
        record.partition ?? -1,
        record.value,
        record.key,
        record.timestamp,
        undefined,
        record.headers,
      );
      this.pending++;
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === KafkaCodes.QUEUE_FULL) return false;
      throw kafkaError('produce', err);
    }
  }

  private drainBacklog(): void {
    let sent = 0;
    while (sent < this.backlog.length && this.tryProduce(this.backlog[sent]!)) sent++;
    this.backlog = sent === this.backlog.length ? [] : this.backlog.slice(sent);
  }

  private onDelivery(err: unknown, report: Kafka.DeliveryReport): void {
    this.pending--;
    if (err) {
      this.failed++;
      this.firstFailure ??= err;
    } else if (this.delivered.size > 0) {
      const offsets = this.delivered.get(report.topic);
      if (offsets !== undefined && !(offsets[report.partition]! >= report.offset)) offsets[report.partition] = report.offset;
    }
    if (this.pending === 0) this.wakeIdleWaiters();
  }

  private onClientError(err: Kafka.LibrdKafkaError): void {
    if (err.isFatal) {
      this.fatal = kafkaError('producer', err);
      this.log.error({ err }, 'producer failed fatally');
      this.wakeIdleWaiters();
    } else {
      this.log.warn({ err: err.message, code: err.code }, 'producer error (librdkafka retries)');
    }
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private waitForIdle(timeoutMs: number): Promise<void> {
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
