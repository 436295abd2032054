import Kafka from '@confluentinc/kafka-javascript';
import { createLogger, type Logger } from '../observability/logger.ts';
import { baseProperties, type ClientProperties, type ConnectionOptions } from './config.ts';
import { kafkaError, promised } from './errors.ts';
import { StartingBacklog } from './starting-backlog.ts';
import type { ConsumedRecord, TopicPartition, TopicPartitionOffset } from './records.ts';

/**
 * Called around a rebalance. The consumer gives up (or takes) the partitions only after the
 * returned promise settles, so a revoke can finish and commit the work in flight first.
 */
export interface RebalanceListener {
  assigned(partitions: TopicPartition[]): void | Promise<void>;
  /** `lost` is true when the partitions were taken away (session timeout), not handed over. */
  revoked(partitions: TopicPartition[], lost: boolean): void | Promise<void>;
}

export interface ConsumerOptions extends ConnectionOptions {
  /** The consumer group; without one the consumer only reads partitions it is assigned. */
  groupId?: string;
  isolationLevel?: 'read_committed' | 'read_uncommitted';
  /** Where a partition with no committed offset starts. Default `earliest`. */
  autoOffsetReset?: 'earliest' | 'latest';
  rebalance?: RebalanceListener;
  logger?: Logger;
}

/** The parts of the client's consumer its type declarations leave out. */
interface NativeConsumer {
  assign(assignment: Kafka.Assignment[]): void;
  unassign(): void;
  incrementalAssign(assignment: Kafka.Assignment[]): void;
  incrementalUnassign(assignment: Kafka.Assignment[]): void;
  assignmentLost(): boolean;
  rebalanceProtocol(): 'COOPERATIVE' | 'EAGER' | 'NONE';
  setDefaultIsTimeoutOnlyForFirstMessage(enabled: boolean): void;
}

/**
 * How much librdkafka reads ahead, bounded (users can override each in `properties`). Its own
 * defaults keep up to 100,000 messages queued plus a fetch of up to 50 MB, and every queued
 * message costs a few hundred bytes of native memory beyond its payload: for small records that
 * is well over 100 MB of resident memory per consumer, for a loop that takes 5,000 records at a
 * time. These keep about one batch ahead (5,000 records, or 16 MB of payload, plus one fetch of
 * at most 1 MB) and, once below that, fetch again after 10 ms instead of librdkafka's 1 s
 * back-off (which so small a queue would otherwise run dry in). Measured reading 1M records of
 * 30 bytes: the same rate (also with 20 µs of work per record), about 60 MB less resident memory.
 * A fetch may bring 1 MB of each partition, up to 8 MB in all: with a 1 MB cap in all, the first
 * partitions of a fetch filled it, and a task joining two topics waited seconds for the other
 * (the stream-stream join benchmark: 28,000-39,000 records/s with a 1 MB cap, 37,000-46,000
 * with this).
 */
const PREFETCH: ClientProperties = {
  'queued.min.messages': 5_000,
  'queued.max.messages.kbytes': 16_384,
  'fetch.max.bytes': 8 * 1024 * 1024,
  'max.partition.fetch.bytes': 1024 * 1024,
  'fetch.queue.backoff.ms': 10,
};

const OFFSET_BEGINNING = -2;
const OFFSET_END = -1;
const ASSIGN = -175;
const REVOKE = -174;

/**
 * A Kafka consumer that reads in batches and commits only when told to. Offsets are never
 * committed or stored automatically.
 *
 * @example
 * ```ts
 * const consumer = await KafkaConsumer.connect({ groupId: 'app', bootstrapServers });
 * consumer.subscribe(['orders']);
 * const batch = await consumer.consume(1000, 100);
 * await consumer.commit([{ topic: 'orders', partition: 0, offset: batch.at(-1)!.offset + 1 }]);
 * ```
 */
export class KafkaConsumer {
  private readonly client: Kafka.KafkaConsumer;
  private readonly log: Logger;
  private readonly autoOffsetReset: 'earliest' | 'latest';
  /** Whether each partition had records waiting when it was assigned (see hasUndelivered). */
  private readonly backlog = new StartingBacklog(async (topic, partition) => {
    const [[committed], marks] = await Promise.all([this.committed([{ topic, partition }]), this.watermarks(topic, partition)]);
    const start = committed !== undefined && committed.offset >= 0 ? committed.offset : this.autoOffsetReset === 'earliest' ? marks.low : marks.high;
    return start < marks.high;
  });
  private rebalancing: Promise<void> = Promise.resolve();
  /** Set once `disconnect` starts: the client closes (and is freed) in a worker thread from then on. */
  private disconnecting = false;

  private constructor(options: ConsumerOptions) {
    this.log = options.logger ?? createLogger({ component: 'consumer', group: options.groupId });
    this.autoOffsetReset = options.autoOffsetReset ?? 'earliest';
    this.client = new Kafka.KafkaConsumer(
      {
        ...baseProperties(options),
        // A group id is mandatory for librdkafka even when the consumer only uses assign().
        'group.id': options.groupId ?? `sluice-reader-${process.pid}-${Date.now()}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'enable.partition.eof': false,
        'isolation.level': options.isolationLevel ?? 'read_committed',
        // Range gives partition p of every topic to the same member (members subscribe to the
        // same topics), so the co-partitioned sources of a task stay together, and it splits
        // each topic evenly, so every sub-topology's tasks spread over the instances. The
        // cooperative-sticky assignor balances partition counts only: it split tasks over two
        // instances and could leave one with all of a sub-topology. Range rebalances eagerly
        // (every partition is revoked, then assigned again).
        'partition.assignment.strategy': 'range',
        ...PREFETCH,
        // librdkafka refuses a fetch.max.bytes below message.max.bytes.
        'fetch.max.bytes': Math.max(PREFETCH['fetch.max.bytes'] as number, Number(options.properties?.['message.max.bytes'] ?? 0)),
        rebalance_cb: (err: Kafka.LibrdKafkaError, partitions: Kafka.Assignment[]) =>
          this.onRebalance(err, partitions, options.rebalance),
        ...options.properties,
      },
      // A topic-level property: librdkafka ignores it in the global configuration here.
      { 'auto.offset.reset': this.autoOffsetReset },
    );
    this.client.on('event.error', (err) => this.log.warn({ err: err.message, code: err.code }, 'consumer error'));
  }

  static async connect(options: ConsumerOptions = {}): Promise<KafkaConsumer> {
    const consumer = new KafkaConsumer(options);
    await promised('connect consumer', (done) => consumer.client.connect({ timeout: 30_000 }, done));
    consumer.native.setDefaultIsTimeoutOnlyForFirstMessage(true);
    return consumer;
  }

  private get native(): NativeConsumer {
    return this.client as unknown as NativeConsumer;
  }

  subscribe(topics: string[]): void {
    this.client.subscribe(topics);
  }

  /** Reads these partitions from these offsets, outside any group's assignment. */
  assign(partitions: TopicPartitionOffset[]): void {
    this.client.assign(partitions);
  }

  /**
   * Up to `max` records: waits at most `timeoutMs` for the first, then takes what is ready.
   * Records of one partition come in offset order.
   */
  consume(max: number, timeoutMs: number): Promise<ConsumedRecord[]> {
    this.client.setDefaultConsumeTimeout(timeoutMs);
    return new Promise((resolve, reject) => {
      this.client.consume(max, (err, messages) => {
        if (err) reject(kafkaError('consume', err));
        else resolve(messages as unknown as ConsumedRecord[]);
      });
    });
  }

  /**
   * Commits these positions (the offset of the next record to read) and returns once the group
   * coordinator has accepted them. The commit is synchronous on purpose (the client's queued
   * commit, retried after a rebalance, can land after a newer one and move the group's position
   * back), but it runs on a worker thread: with the brokers away it may wait long, and the
   * event loop (timers, a bounded shutdown) must go on meanwhile.
   */
  commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return Promise.resolve();
    const client = this.client as unknown as { commitCb(offsets: TopicPartitionOffset[], done: (err: unknown) => void): void };
    return new Promise((resolve, reject) => {
      try {
        client.commitCb(offsets, (err) => (err ? reject(kafkaError('commit offsets', err)) : resolve()));
      } catch (err) {
        reject(kafkaError('commit offsets', err));
      }
    });
  }

  /** The committed positions of these partitions for this consumer's group. */
  committed(partitions: TopicPartition[], timeoutMs = 10_000): Promise<TopicPartitionOffset[]> {
    return promised('fetch committed offsets', (done) =>
      this.client.committed(partitions, timeoutMs, (err, result) => done(err, result)),
    );
  }

  /**
   * The client itself, for a transactional producer's `sendOffsetsToTransaction`, which reads
   * the group metadata (generation, member id) from it.
   */
  get transactionHandle(): Kafka.KafkaConsumer {
    return this.client;
  }

  /**
   * Moves the position of these assigned partitions back (or on) to the group's committed
   * offsets, or to the reset policy's end where nothing is committed. Records already fetched
   * for them are dropped. Under read_committed this waits for pending transactional commits.
   */
  async seekToCommitted(partitions: TopicPartition[], timeoutMs = 30_000): Promise<void> {
    if (partitions.length === 0) return;
    const committed = await this.committed(partitions, timeoutMs);
    for (const { topic, partition, offset } of committed) {
      const target = offset >= 0 ? offset : this.autoOffsetReset === 'earliest' ? OFFSET_BEGINNING : OFFSET_END;
      await promised('seek', (done) => this.client.seek({ topic, partition, offset: target }, timeoutMs, done));
    }
  }

  pause(partitions: TopicPartition[]): void {
    if (partitions.length > 0) this.client.pause(partitions);
  }

  resume(partitions: TopicPartition[]): void {
    if (partitions.length > 0) this.client.resume(partitions);
  }

  /** The offset after the last record delivered of a partition and the transaction markers after it; undefined before the first. */
  consumedUpTo(topic: string, partition: number): number | undefined {
    try {
      const offset = this.client.position([{ topic, partition }])[0]?.offset;
      return offset === undefined || offset < 0 ? undefined : offset;
    } catch {
      return undefined;
    }
  }

  /** The position (next offset to read) of each partition; negative when not yet known. */
  position(partitions: TopicPartition[]): TopicPartitionOffset[] {
    return this.client.position(partitions).map(({ topic, partition, offset }) => ({ topic, partition, offset }));
  }

  assignment(): TopicPartition[] {
    return this.client.assignments().map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Low and high watermarks (high: the offset the next record will get). */
  watermarks(topic: string, partition: number, timeoutMs = 10_000): Promise<{ low: number; high: number }> {
    return promised<Kafka.WatermarkOffsets>('query watermarks', (done) =>
      this.client.queryWatermarkOffsets(topic, partition, timeoutMs, done),
    ).then(({ lowOffset, highOffset }) => ({ low: lowOffset, high: highOffset }));
  }

  /**
   * The watermarks the client last learnt for a partition it reads (from fetch responses; no
   * request is made), or undefined before the first fetch.
   */
  cachedWatermarks(topic: string, partition: number): { low: number; high: number } | undefined {
    try {
      const { lowOffset, highOffset } = (this.client as unknown as { getWatermarkOffsets(t: string, p: number): Kafka.WatermarkOffsets }).getWatermarkOffsets(topic, partition);
      return highOffset >= 0 ? { low: lowOffset, high: highOffset } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Whether the broker holds records of this partition past what was consumed (by the
   * watermarks of the last fetch): false for a partition with no records at all. Before the
   * first record consumed of it, whether records were waiting when it was assigned, once the
   * broker has said (undefined until then).
   */
  hasUndelivered(topic: string, partition: number): boolean | undefined {
    const marks = this.cachedWatermarks(topic, partition);
    if (marks !== undefined && marks.high <= marks.low) return false;
    const offset = this.consumedUpTo(topic, partition);
    if (marks !== undefined && offset !== undefined) return offset < marks.high;
    // Nothing delivered from it yet: whether records were waiting when it was assigned.
    return this.backlog.get(topic, partition);
  }

  /** Resolves once no rebalance callback is in progress or queued (one may queue another meanwhile). */
  async settled(): Promise<void> {
    for (let seen: Promise<void> | undefined; seen !== this.rebalancing; ) {
      seen = this.rebalancing;
      await seen;
    }
  }

  /**
   * Leaves the group and closes the client, waiting at most `timeoutMs`: a consumer closed while
   * it is still joining can receive an assignment the client then refuses to take, and its close
   * would wait for that rebalance forever. Past the bound the close goes on without it.
   *
   * The rebalance listener is not called from the moment the close starts: whoever closes has
   * finished with the partitions (committed, or given up), and work a listener would do for the
   * close's own revocation (a commit through a transactional producer) would race the client's
   * teardown and the caller's next steps. When this resolves, no listener call is running.
   */
  async disconnect(timeoutMs = 30_000): Promise<void> {
    await this.settled();
    this.disconnecting = true;
    let timer: NodeJS.Timeout | undefined;
    const closed = promised('disconnect consumer', (done) => this.client.disconnect(done)).then(
      () => 'closed' as const,
      (err) => {
        this.log.warn({ err }, 'consumer did not disconnect cleanly');
        return 'closed' as const;
      },
    );
    const bounded = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    if ((await Promise.race([closed, bounded])) === 'timeout') {
      this.log.warn({ timeoutMs }, 'consumer did not close in time (a rebalance in flight); going on without it');
    }
    clearTimeout(timer);
    // A rebalance that reached this side before the close began may still be finishing.
    await this.settled();
  }

  private onRebalance(err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[], listener?: RebalanceListener): void {
    const partitions = assignment.map(({ topic, partition }) => ({ topic, partition }));
    const native = this.native;
    const cooperative = native.rebalanceProtocol() === 'COOPERATIVE';
    const step = async (): Promise<void> => {
      if (this.disconnecting) return this.whileClosing(err.code, assignment, cooperative);
      if (err.code === ASSIGN) {
        try {
          await listener?.assigned(partitions);
        } finally {
          if (cooperative) native.incrementalAssign(assignment);
          else native.assign(assignment);
        }
      } else if (err.code === REVOKE) {
        this.backlog.forget(partitions);
        try {
          await listener?.revoked(partitions, native.assignmentLost());
        } finally {
          if (cooperative) native.incrementalUnassign(assignment);
          else native.unassign();
        }
      } else {
        this.log.error({ err: err.message, code: err.code }, 'rebalance failed');
      }
    };
    this.rebalancing = this.rebalancing.then(step).catch((error) => {
      this.log.error({ err: error }, 'rebalance listener failed');
    });
  }

  /**
   * A rebalance met while closing: the listener hears nothing, and an assignment is not taken.
   * A revocation is acknowledged, as the close waits for it, unless the client has already gone
   * (the close went on without it): asking a freed client anything more would crash the process.
   */
  private whileClosing(code: number, assignment: Kafka.Assignment[], cooperative: boolean): void {
    if (code !== REVOKE) return;
    try {
      if (cooperative) this.native.incrementalUnassign(assignment);
      else this.native.unassign();
    } catch {
      // The close finished first and gave the assignment up itself.
    }
  }
}
