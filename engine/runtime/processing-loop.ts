import { ApplicationError, describeCause } from '../errors.ts';
import type { KafkaConsumer } from '../kafka/consumer.ts';
import { isRebalanceError } from '../kafka/errors.ts';
import type { KafkaProducer } from '../kafka/producer.ts';
import type { Logger } from '../observability/logger.ts';
import { Mutex } from './mutex.ts';
import { StopProcessing } from './record-errors.ts';
import type { Tasks } from './tasks.ts';

export interface LoopOptions {
  /** Records taken from the consumer at once. */
  maxBatch: number;
  /** How long one poll waits for the first record. */
  pollTimeoutMs: number;
  commitIntervalMs: number;
  /** Unacknowledged output records that make the loop commit (and so wait) before reading more. */
  maxInFlight: number;
}

/**
 * The poll → process → commit loop of one instance. Records are processed synchronously, batch
 * by batch; the loop awaits only the poll and the commit. A commit first waits until every
 * output sent so far is acknowledged, then commits the positions processed: nothing is
 * committed that is not durable. While the producer is behind, the loop commits instead of
 * reading, so consumption pauses rather than memory growing.
 */
export class ProcessingLoop {
  private stopping = false;
  private readonly lock = new Mutex();
  private nextCommitAt = 0;
  private readonly consumer: KafkaConsumer;
  private readonly producer: KafkaProducer;
  private readonly tasks: Tasks;
  private readonly options: LoopOptions;
  private readonly log: Logger;
  processed = 0;
  commits = 0;

  constructor(consumer: KafkaConsumer, producer: KafkaProducer, tasks: Tasks, options: LoopOptions, log: Logger) {
    this.consumer = consumer;
    this.producer = producer;
    this.tasks = tasks;
    this.options = options;
    this.log = log;
  }

  /** Runs until `stop()`, then commits what was processed. Rejects on a fatal error. */
  async run(): Promise<void> {
    this.nextCommitAt = Date.now() + this.options.commitIntervalMs;
    while (!this.stopping) await this.lock.run(() => this.iteration());
    await this.lock.run(() => this.commit());
  }

  /** Finishes the batch in flight, then leaves `run`. */
  stop(): void {
    this.stopping = true;
  }

  /** Runs `section` between two iterations (rebalances use it to commit and close tasks). */
  exclusive<T>(section: () => Promise<T>): Promise<T> {
    return this.lock.run(section);
  }

  /**
   * The commit, in an order that keeps stores, changelogs and offsets consistent: (1) flush the
   * stores' caches, which sends their changes to the changelogs and their updates downstream;
   * (2) wait until every output and changelog record is acknowledged; (3) write the stores'
   * LevelDB batches; (4) commit the input positions; (5) write the checkpoints. A store never
   * holds a change its changelog lacks, so replaying the changelog from a checkpoint always
   * brings the store and its changelog into agreement.
   */
  async commit(): Promise<void> {
    await this.tasks.sweepExpired();
    this.tasks.flushState();
    try {
      await this.producer.flush();
    } catch (err) {
      throw new ApplicationError(
        `Output records were not acknowledged, so no offsets were committed: ${describeCause(err)}. ` +
          'The records since the last commit will be processed again on restart.',
        { cause: err },
      );
    }
    await this.tasks.writeState();
    const offsets = this.tasks.uncommitted();
    if (offsets.length > 0) {
      try {
        await this.consumer.commit(offsets);
        this.tasks.committed(offsets);
        this.commits++;
        this.log.debug({ offsets: offsets.map((o) => `${o.topic}[${o.partition}]@${o.offset}`) }, 'offsets committed');
      } catch (err) {
        if (!isRebalanceError(err)) throw err;
        // The group moved on; these partitions' next owner starts from the last commit.
        this.log.warn({ err: describeCause(err) }, 'commit refused during a rebalance; the records since the last commit will be processed again');
      }
    }
    this.tasks.checkpoint(this.producer);
    this.nextCommitAt = Date.now() + this.options.commitIntervalMs;
  }

  private async iteration(): Promise<void> {
    const batch = await this.consumer.consume(this.options.maxBatch, this.options.pollTimeoutMs);
    try {
      for (let i = 0; i < batch.length; i++) {
        const record = batch[i]!;
        const task = this.tasks.forRecord(record.topic, record.partition);
        // No task: the partition was revoked while this batch was in flight; its new owner reads it.
        if (task !== undefined) task.process(record);
      }
    } catch (err) {
      if (!(err instanceof StopProcessing)) throw err;
      // Commit what was processed before the failing record, then stop.
      await this.commit().catch((commitError) => this.log.error({ err: commitError }, 'final commit failed'));
      throw err.reason;
    }
    this.processed += batch.length;
    if (Date.now() >= this.nextCommitAt || this.producer.inFlight >= this.options.maxInFlight || this.tasks.commitRequested) await this.commit();
  }
}
