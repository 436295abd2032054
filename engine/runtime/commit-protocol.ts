import { ApplicationError, describeCause, TransactionError } from '../errors.ts';
import type { KafkaConsumer } from '../kafka/consumer.ts';
import { isRebalanceError } from '../kafka/errors.ts';
import type { KafkaProducer } from '../kafka/producer.ts';
import type { TopicPartitionOffset } from '../kafka/records.ts';
import type { Logger } from '../observability/logger.ts';
import type { ProcessingGuarantee } from './definition.ts';

/**
 * What a commit achieved:
 * - `committed`: the outputs, changelog records and positions are durable;
 * - `superseded`: the outputs are durable but the group refused the positions (it rebalanced);
 *   the partitions' next owner processes those records again (at-least-once);
 * - `aborted`: nothing since the last commit happened; the tasks must go back to it.
 */
export type CommitOutcome = 'committed' | 'superseded' | 'aborted';

/** How outputs, changelog records and input positions become durable together. */
export interface CommitProtocol {
  readonly guarantee: ProcessingGuarantee;
  /** Before anything is sent: opens a transaction under exactly-once. */
  prepare(): Promise<void>;
  /** Makes everything sent so far and these positions durable. */
  commit(offsets: TopicPartitionOffset[]): Promise<CommitOutcome>;
  /**
   * Drops what was sent since the last commit, if the guarantee can: true when it did, and the
   * tasks must go back to the last commit.
   */
  abandon(): Promise<boolean>;
  /** Whether an error met while processing can be recovered from by `abandon` (a failed producer). */
  recoverable(error: unknown): boolean;
}

/**
 * At-least-once: wait until every record sent is acknowledged, then commit the positions with
 * the consumer. A crash in between processes the records since the last commit again.
 */
export class AtLeastOnce implements CommitProtocol {
  readonly guarantee = 'at_least_once';

  constructor(
    private readonly producer: KafkaProducer,
    private readonly consumer: KafkaConsumer,
    private readonly log: Logger,
  ) {}

  async prepare(): Promise<void> {}

  async commit(offsets: TopicPartitionOffset[]): Promise<CommitOutcome> {
    try {
      await this.producer.flush();
    } catch (err) {
      throw new ApplicationError(
        `Output records were not acknowledged, so no offsets were committed: ${describeCause(err)}. ` +
          'The records since the last commit will be processed again on restart.',
        { cause: err },
      );
    }
    try {
      await this.consumer.commit(offsets);
      return 'committed';
    } catch (err) {
      if (!isRebalanceError(err)) throw err;
      this.log.warn({ err: describeCause(err) }, 'commit refused during a rebalance; the records since the last commit will be processed again');
      return 'superseded';
    }
  }

  async abandon(): Promise<boolean> {
    return false;
  }

  recoverable(): boolean {
    return false;
  }
}

/**
 * Exactly-once (Kafka Streams' exactly_once_v2): one transactional producer for the instance;
 * outputs, changelog records and the consumed positions (sent with the consumer's group
 * metadata, so a member the group has moved on from is fenced) commit atomically, or not at all.
 * A failed transaction is aborted; a producer that is fenced, failed fatally or left in an
 * unknown state (a timed-out call) is replaced, never reused.
 */
export class ExactlyOnce implements CommitProtocol {
  readonly guarantee = 'exactly_once';
  aborted = 0;
  replaced = 0;

  constructor(
    private readonly producer: KafkaProducer,
    private readonly consumer: KafkaConsumer,
    private readonly log: Logger,
  ) {}

  async prepare(): Promise<void> {
    if (this.producer.inTransaction) return;
    try {
      await this.producer.beginTransaction();
    } catch (err) {
      if (!(err instanceof TransactionError)) throw err;
      this.log.warn({ err: describeCause(err) }, 'could not begin a transaction; replacing the producer');
      await this.replaceProducer();
      await this.producer.beginTransaction();
    }
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<CommitOutcome> {
    if (!this.producer.inTransaction) {
      if (offsets.length === 0) return 'committed';
      await this.prepare();
    }
    try {
      await this.producer.commitTransaction(offsets, this.consumer);
      return 'committed';
    } catch (err) {
      if (!(err instanceof TransactionError)) throw err;
      this.log.warn({ err: describeCause(err), failure: err.failure }, 'transaction failed; aborting it and going back to the last commit');
      await this.abort(err.failure);
      return 'aborted';
    }
  }

  async abandon(): Promise<boolean> {
    await this.abort('abortable');
    return true;
  }

  recoverable(error: unknown): boolean {
    for (let e = error; e instanceof Error; e = e.cause) {
      if (e instanceof TransactionError || (e as { fatal?: boolean }).fatal === true) return true;
    }
    return false;
  }

  /** Aborts the open transaction; a fatal or indefinite failure, or a failed abort, replaces the producer. */
  private async abort(failure: TransactionError['failure']): Promise<void> {
    this.aborted++;
    if (failure !== 'fatal') {
      try {
        await this.producer.abortTransaction();
        if (failure === 'abortable') return;
      } catch (err) {
        this.log.warn({ err: describeCause(err) }, 'abort failed');
      }
    }
    await this.replaceProducer();
  }

  private async replaceProducer(): Promise<void> {
    this.replaced++;
    this.log.warn('replacing the transactional producer');
    try {
      await this.producer.replace();
    } catch (err) {
      throw new ApplicationError(`The transactional producer could not be replaced: ${describeCause(err)}`, { cause: err });
    }
  }
}
