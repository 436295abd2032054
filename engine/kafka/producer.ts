import Kafka from '@confluentinc/kafka-javascript';
import { DeliveryError, KafkaOperationError, OperationTimeoutError, RecordTooLargeError, TransactionError, type TransactionFailure } from '../errors.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { baseProperties, type ConnectionOptions } from './config.ts';
import { KafkaCodes, kafkaError, promised } from './errors.ts';
import { boundedTransactionalCall, type TransactionalCall } from './transactional-call.ts';
import type { KafkaConsumer } from './consumer.ts';
import { partitionForKey } from './murmur2.ts';
import { recordSize, type ProducerRecord, type TopicPartitionOffset } from './records.ts';

export interface ProducerOptions extends ConnectionOptions {
  /** Idempotent delivery (no duplicates from retries, order kept per partition). Default true. */
  idempotent?: boolean;
  /** Makes the producer transactional under this id; every `send` must then be inside a transaction. */
  transactionalId?: string;
  /** How long the broker lets a transaction stay open before it aborts it. Default 10,000 ms. */
  transactionTimeoutMs?: number;
  /** The bound on each transactional call (init, commit, abort, sending offsets). Default 30,000 ms. */
  transactionCallTimeoutMs?: number;
  logger?: Logger;
}

/** librdkafka's default `message.max.bytes`. */
const LIBRDKAFKA_MESSAGE_MAX_BYTES = 1_000_000;
/** A zero-length Buffer over real memory: the client sends it as empty, not as null. */
const EMPTY = Buffer.alloc(1).subarray(0, 0);

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
  private client: Kafka.Producer;
  private readonly options: ProducerOptions;
  private readonly log: Logger;
  private readonly partitionCounts = new Map<string, number>();
  /** Records refused by a full local queue, sent again by `flush` in order. */
  private backlog: ProducerRecord[] = [];
  private pending = 0;
  private failed = 0;
  private firstFailure: { error: unknown; topic: string; partition: number } | undefined;
  /** Failed deliveries since the last flush that the broker refused as too large. */
  private tooLarge = 0;
  /** The most bytes a record may take: the client's `message.max.bytes`. */
  readonly maxRecordBytes: number;
  /** Topics whose broker refused records as too large: a bound below the size of the smallest refused. */
  private readonly topicLimits = new Map<string, number>();
  private fatal: KafkaOperationError | undefined;
  private idleWaiters: Array<() => void> = [];
  /** topic -> partition -> highest offset acknowledged, for the topics asked about. */
  private readonly delivered = new Map<string, number[]>();
  /** Records sent per topic since the producer was created (aborted ones included). */
  private readonly sentByTopic = new Map<string, number>();
  private lastTopic = '';
  private lastTopicCount = 0;
  /** Whether a transaction is open (transactional producers only). */
  private transaction = false;

  private constructor(options: ProducerOptions, log: Logger) {
    this.options = options;
    this.log = log;
    this.maxRecordBytes = Number(options.properties?.['message.max.bytes'] ?? LIBRDKAFKA_MESSAGE_MAX_BYTES);
    this.client = this.createClient();
  }

  static async connect(options: ProducerOptions = {}): Promise<KafkaProducer> {
    const producer = new KafkaProducer(options, options.logger ?? createLogger({ component: 'producer' }));
    await producer.start();
    return producer;
  }

  private createClient(): Kafka.Producer {
    const options = this.options;
    const transactional = options.transactionalId === undefined ? {} : {
      'transactional.id': options.transactionalId,
      'transaction.timeout.ms': options.transactionTimeoutMs ?? 10_000,
    };
    const client = new Kafka.Producer({
      ...baseProperties(options),
      'enable.idempotence': options.idempotent ?? true,
      // Same placement as the Java client for any record we do not place ourselves.
      partitioner: 'murmur2_random',
      'linger.ms': 5,
      'queue.buffering.max.messages': 500_000,
      'queue.buffering.max.kbytes': 512 * 1024,
      dr_cb: true,
      ...transactional,
      ...options.properties,
    });
    client.on('delivery-report', (err, report) => {
      if (client === this.client) this.onDelivery(err, report);
    });
    client.on('event.error', (err) => {
      if (client === this.client) this.onClientError(err);
    });
    return client;
  }

  private async start(): Promise<void> {
    await promised('connect producer', (done) => this.client.connect({ timeout: 30_000 }, done));
    this.client.setPollInBackground(true);
    if (this.transactional) {
      await this.transactionalCall('initialize transactions', (timeout, done) => this.client.initTransactions(timeout, done), { retry: true });
    }
  }

  /** True when the producer was created with a transactional id. */
  get transactional(): boolean {
    return this.options.transactionalId !== undefined;
  }

  /** True while a transaction is open. */
  get inTransaction(): boolean {
    return this.transaction;
  }

  /** Opens a transaction unless one is open. Throws {@link TransactionError}. */
  async beginTransaction(): Promise<void> {
    if (this.transaction) return;
    if (this.fatal) throw new TransactionError('begin transaction', 'fatal', this.fatal.message, { cause: this.fatal });
    await this.transactionalCall('begin transaction', (_, done) => this.client.beginTransaction(done));
    this.transaction = true;
  }

  /**
   * Commits the open transaction with the consumer's `offsets` in it (sent with the consumer's
   * group metadata, so a member the group has moved on from is fenced). Waits for every record
   * sent first: a record that failed makes the transaction abortable. Retriable errors are
   * retried within the call bound. Throws {@link TransactionError}, whose `failure` says
   * whether to abort, or to abort and replace the producer.
   */
  async commitTransaction(offsets: TopicPartitionOffset[], consumer: KafkaConsumer): Promise<void> {
    if (!this.transaction) throw new TransactionError('commit transaction', 'abortable', 'no transaction is open');
    try {
      await this.flush(this.callTimeoutMs);
    } catch (err) {
      const failure: TransactionFailure = this.fatal ? 'fatal' : err instanceof OperationTimeoutError ? 'indefinite' : 'abortable';
      throw new TransactionError('commit transaction', failure, (err as Error).message, { cause: err });
    }
    if (offsets.length > 0) {
      await this.transactionalCall(
        'send offsets to transaction',
        (timeout, done) => this.client.sendOffsetsToTransaction(offsets, consumer.transactionHandle, timeout, done),
        { retry: true },
      );
    }
    await this.transactionalCall('commit transaction', (timeout, done) => this.client.commitTransaction(timeout, done), { retry: true });
    this.transaction = false;
  }

  /**
   * Aborts the open transaction: the brokers discard its records and offsets, and records still
   * queued here are dropped. Throws {@link TransactionError} if even that fails (replace the
   * producer then).
   */
  async abortTransaction(): Promise<void> {
    this.backlog = [];
    if (this.transaction) {
      await this.transactionalCall('abort transaction', (timeout, done) => this.client.abortTransaction(timeout, done), { retry: true });
    }
    this.transaction = false;
    // The purged records' delivery reports carry errors that belong to the aborted transaction.
    await this.waitForIdle(this.callTimeoutMs);
    this.pending = 0;
    this.failed = 0;
    this.tooLarge = 0;
    this.firstFailure = undefined;
  }

  /**
   * Drops the underlying client (fenced, failed fatally, or in an unknown transactional state)
   * and starts a new one with the same settings; for a transactional producer, initialising
   * transactions under the same id fences the old client and aborts what it left open.
   */
  async replace(): Promise<void> {
    const old = this.client;
    this.client = this.createClient();
    this.backlog = [];
    this.pending = 0;
    this.failed = 0;
    this.tooLarge = 0;
    this.firstFailure = undefined;
    this.fatal = undefined;
    this.transaction = false;
    this.wakeIdleWaiters();
    void promised('disconnect replaced producer', (done) => old.disconnect(0, done)).catch(() => undefined);
    await this.start();
  }

  private get callTimeoutMs(): number {
    return this.options.transactionCallTimeoutMs ?? 30_000;
  }

  private transactionalCall(operation: string, call: TransactionalCall, options: { retry?: boolean } = {}): Promise<void> {
    return boundedTransactionalCall(operation, call, { timeoutMs: this.callTimeoutMs, retry: options.retry ?? false, log: this.log });
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

  /** The most bytes a record of `topic` may take (see {@link recordSize}). */
  recordLimit(topic: string): number {
    const learnt = this.topicLimits.get(topic);
    return learnt === undefined || learnt > this.maxRecordBytes ? this.maxRecordBytes : learnt;
  }

  /**
   * Enqueues one record; never waits. Throws {@link RecordTooLargeError} for a record larger
   * than its topic takes (so the record's own error handling applies), and otherwise only if
   * the producer has failed fatally.
   */
  send(record: ProducerRecord): void {
    if (this.fatal) throw this.fatal;
    if (this.options.transactionalId !== undefined && !this.transaction) {
      throw new KafkaOperationError('produce', 'a transactional producer sends only inside a transaction; none is open', { fatal: true });
    }
    const size = recordSize(record);
    if (size > this.maxRecordBytes || (this.topicLimits.size > 0 && size > this.recordLimit(record.topic))) {
      throw new RecordTooLargeError(record.topic, size, this.recordLimit(record.topic));
    }
    if (record.topic !== this.lastTopic) this.countSent(record.topic);
    this.lastTopicCount++;
    if (record.partition === undefined && record.key !== null) {
      const count = this.partitionCounts.get(record.topic);
      if (count !== undefined) record.partition = partitionForKey(record.key, count);
    }
    if (this.backlog.length > 0 || !this.tryProduce(record)) this.backlog.push(record);
  }

  /** Records sent per topic, up to now. */
  sentCounts(): Map<string, number> {
    this.countSent(this.lastTopic);
    return this.sentByTopic;
  }

  /** Adds the run of records sent to the last topic to its count; `topic` starts a new run. */
  private countSent(topic: string): void {
    if (this.lastTopicCount > 0) this.sentByTopic.set(this.lastTopic, (this.sentByTopic.get(this.lastTopic) ?? 0) + this.lastTopicCount);
    this.lastTopic = topic;
    this.lastTopicCount = 0;
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
      const error = new DeliveryError(this.failed, this.firstFailure!, this.tooLarge);
      this.failed = 0;
      this.tooLarge = 0;
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
        // The client sends a zero-length Buffer as null (a tombstone) unless its memory is real.
        record.value !== null && record.value.length === 0 ? EMPTY : record.value,
        record.key !== null && record.key.length === 0 ? EMPTY : record.key,
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
      this.firstFailure ??= { error: err, topic: report.topic, partition: report.partition };
      if ((err as { code?: number }).code === KafkaCodes.MSG_SIZE_TOO_LARGE) this.learnLimit(report);
    } else if (this.delivered.size > 0) {
      const offsets = this.delivered.get(report.topic);
      if (offsets !== undefined && !(offsets[report.partition]! >= report.offset)) offsets[report.partition] = report.offset;
    }
    if (this.pending === 0) this.wakeIdleWaiters();
  }

  /**
   * The broker refused a record as too large for its topic (whose `max.message.bytes` is below
   * the client's `message.max.bytes`): records of this size and larger are refused by `send`
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
