import Kafka from '@confluentinc/kafka-javascript';
import { KafkaOperationError, OperationTimeoutError, RecordTooLargeError, TransactionError, type TransactionFailure } from '../errors.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { baseProperties, type ConnectionOptions } from './config.ts';
import { KafkaCodes, kafkaError, promised } from './errors.ts';
import { flushClient } from './client-flush.ts';
import { boundedTransactionalCall, newTransactionStates, type TransactionalCall } from './transactional-call.ts';
import type { KafkaConsumer } from './consumer.ts';
import { partitionForKey } from './murmur2.ts';
import { recordSize, type ProducerRecord, type TopicPartitionOffset } from './records.ts';
import { Deliveries } from './deliveries.ts';

export interface ProducerOptions extends ConnectionOptions {
  /** Idempotent delivery (no duplicates from retries, order kept per partition). Default true. */
  idempotent?: boolean;
  /** Makes the producer transactional under this id; every `send` must then be inside a transaction. */
  transactionalId?: string;
  /** How long the broker lets a transaction stay open before it aborts it. Default 10,000 ms. */
  transactionTimeoutMs?: number;
  /** The bound on each transactional call (init, commit, abort, sending offsets). Default 30,000 ms. */
  transactionCallTimeoutMs?: number;
  /**
   * `failures` (default): the client reports failed deliveries only, and a tracked partition's
   * acknowledged offset is its end offset, learnt after a flush at most once a second (see
   * {@link Deliveries}). `all`: a report per record, and each record's own offset (for a few
   * records whose offsets are answered, as query routes' writes).
   */
  deliveryReports?: 'failures' | 'all';
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
  private readonly deliveries: Deliveries;
  /** Set when the client failed fatally: nothing can be sent any more (replace the producer). */
  private fatal: KafkaOperationError | undefined;
  /** The most bytes a record may take: the client's `message.max.bytes`. */
  readonly maxRecordBytes: number;
  /** Records sent per topic since the producer was created (aborted ones included). */
  private readonly sentByTopic = new Map<string, number>();
  private lastTopic = '';
  private lastTopicCount = 0;
  /** Where the current client's transactions stand (transactional producers only). */
  private transactions = newTransactionStates();

  private constructor(options: ProducerOptions, log: Logger) {
    this.options = options;
    this.log = log;
    this.deliveries = new Deliveries(log);
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
      // Failures only: that records were acknowledged is learnt from the flush (see Deliveries).
      'delivery.report.only.error': this.reportsAll ? false : true,
      ...transactional,
      ...options.properties,
    });
    client.on('delivery-report', (err, report) => {
      if (client === this.client) this.deliveries.report(err, report);
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

  private get reportsAll(): boolean {
    return this.options.deliveryReports === 'all';
  }

  /** True when the producer was created with a transactional id. */
  get transactional(): boolean {
    return this.options.transactionalId !== undefined;
  }

  /** True while a transaction is open (records may be sent in it), or being committed or aborted. */
  get inTransaction(): boolean {
    return this.transactions.is('open', 'committing', 'aborting');
  }

  /** Opens a transaction unless one is open. Throws {@link TransactionError}. */
  async beginTransaction(): Promise<void> {
    if (this.transactions.is('open')) return;
    if (this.fatal) throw new TransactionError('begin transaction', 'fatal', this.fatal.message, { cause: this.fatal });
    this.transactions.transition('beginning');
    try {
      await this.transactionalCall('begin transaction', (_, done) => this.client.beginTransaction(done));
    } catch (err) {
      this.transactions.transition('none');
      throw err;
    }
    this.transactions.transition('open');
  }

  /**
   * Commits the open transaction with the consumer's `offsets` in it (sent with the consumer's
   * group metadata, so a member the group has moved on from is fenced). Waits for every record
   * sent first: a record that failed makes the transaction abortable. Retriable errors are
   * retried within the call bound. Throws {@link TransactionError}, whose `failure` says
   * whether to abort, or to abort and replace the producer.
   */
  async commitTransaction(offsets: TopicPartitionOffset[], consumer: KafkaConsumer): Promise<void> {
    if (!this.transactions.is('open')) throw new TransactionError('commit transaction', 'abortable', `no transaction is open (${this.transactions.state})`);
    this.transactions.transition('committing');
    try {
      await this.commitOpenTransaction(offsets, consumer);
    } catch (err) {
      // Still open: the caller aborts it (or replaces the producer).
      this.transactions.transition('open');
      throw err;
    }
    this.transactions.transition('none');
  }

  private async commitOpenTransaction(offsets: TopicPartitionOffset[], consumer: KafkaConsumer): Promise<void> {
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
  }

  /**
   * Aborts the open transaction: the brokers discard its records and offsets, and records still
   * queued here are dropped. Throws {@link TransactionError} if even that fails (replace the
   * producer then).
   */
  async abortTransaction(): Promise<void> {
    this.backlog = [];
    if (this.transactions.is('open')) {
      this.transactions.transition('aborting');
      try {
        await this.transactionalCall('abort transaction', (timeout, done) => this.client.abortTransaction(timeout, done), { retry: true });
      } catch (err) {
        // Neither committed nor aborted: only a new client (see `replace`) ends it.
        this.transactions.transition('unknown');
        throw err;
      }
      this.transactions.transition('none');
    }
    // The purged records' delivery reports carry errors that belong to the aborted transaction.
    await this.clientFlush(this.callTimeoutMs).catch(() => undefined);
    await this.deliveries.settle();
    this.deliveries.reset();
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
    this.deliveries.reset();
    this.fatal = undefined;
    // A new client: initialising its transactions fences the old one and aborts what it left open.
    this.transactions = newTransactionStates();
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
    this.deliveries.track(topics);
  }

  /** The highest offset acknowledged so far in this partition of a tracked topic. */
  deliveredOffset(topic: string, partition: number): number | undefined {
    return this.deliveries.offset(topic, partition);
  }

  /** The partition count learnt for `topic`, if any. */
  partitionCount(topic: string): number | undefined {
    return this.partitionCounts.get(topic);
  }

  /** The most bytes a record of `topic` may take (see {@link recordSize}). */
  recordLimit(topic: string): number {
    const learnt = this.deliveries.limit(topic);
    return learnt === undefined || learnt > this.maxRecordBytes ? this.maxRecordBytes : learnt;
  }

  /**
   * Enqueues one record; never waits. Throws {@link RecordTooLargeError} for a record larger
   * than its topic takes (so the record's own error handling applies), and otherwise only if
   * the producer has failed fatally.
   */
  send(record: ProducerRecord): void {
    if (this.fatal) throw this.fatal;
    if (this.options.transactionalId !== undefined && !this.transactions.is('open')) {
      throw new KafkaOperationError('produce', 'a transactional producer sends only inside a transaction; none is open', { fatal: true });
    }
    const size = recordSize(record);
    if (size > this.maxRecordBytes || size > this.recordLimit(record.topic)) {
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

  /** Records sent since the last flush (including any waiting for room in the queue): at most this many are unacknowledged. */
  get inFlight(): number {
    return this.deliveries.unflushed + this.backlog.length;
  }

  /**
   * Waits until every record sent so far is acknowledged. Throws {@link DeliveryError} if any
   * failed since the last flush, and {@link OperationTimeoutError} past `timeoutMs`. Then
   * learns the end offsets of the tracked partitions written since the last flush.
   */
  async flush(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.backlog.length > 0) {
      this.drainBacklog();
      if (this.backlog.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(10, deadline - Date.now()))));
      if (Date.now() >= deadline) break;
    }
    const done = this.backlog.length === 0 && (await this.clientFlush(Math.max(0, deadline - Date.now())));
    if (done) this.deliveries.unflushed = 0;
    await this.deliveries.settle();
    if (this.fatal) throw this.fatal;
    if (!done) {
      throw new OperationTimeoutError(
        'Waiting for delivery acknowledgements',
        timeoutMs,
        `Some of the ${this.inFlight} record(s) sent since the last flush are still unacknowledged; check that the brokers are reachable.`,
      );
    }
    const failure = this.deliveries.takeFailure();
    if (failure) throw failure;
    if (!this.reportsAll) {
      await this.deliveries.learnEndOffsets((topic, partition, timeoutMs) =>
        promised<Kafka.WatermarkOffsets>('query end offset', (done) => this.client.queryWatermarkOffsets(topic, partition, timeoutMs, done)).then((marks) => marks.highOffset),
      );
    }
  }

  /** Waits until the client holds no record: false if `timeoutMs` passed first, or the client failed or was replaced. */
  private clientFlush(timeoutMs: number): Promise<boolean> {
    const client = this.client;
    return flushClient(client, timeoutMs, () => this.fatal !== undefined || client !== this.client);
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
      this.deliveries.sent(record.topic, record.partition);
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

  private onClientError(err: Kafka.LibrdKafkaError): void {
    if (err.isFatal) {
      this.fatal = kafkaError('producer', err);
      this.log.error({ err }, 'producer failed fatally');
    } else {
      this.log.warn({ err: err.message, code: err.code }, 'producer error (librdkafka retries)');
    }
  }
}
