import type { ConsumedRecord, TopicPartitionOffset } from '../kafka/records.ts';
import type { Logger } from '../observability/logger.ts';
import { DeliveryError, describeCause, ExternalSystemUnavailable } from '../errors.ts';
import { FlushFailed, TaskCorrupted } from './task/task-signals.ts';
import type { CommitProtocol } from './commit-protocol.ts';
import { Mutex } from './mutex.ts';
import { StopProcessing } from './record-errors.ts';
import type { Tasks } from './task/tasks.ts';
import type { LoopOutput, RecordSource } from './record-source.ts';
import { InputBackpressure } from './input-backpressure.ts';

/** What a processing loop works with. */
export interface LoopParts {
  source: RecordSource;
  output: LoopOutput;
  protocol: CommitProtocol;
  tasks: Tasks;
  options: LoopOptions;
  log: Logger;
  /** Wall-clock time; default Date.now. */
  clock?: () => number;
}

export interface LoopOptions {
  /** Records taken from the consumer at once. */
  maxBatch: number;
  /** How long one poll waits for the first record. */
  pollTimeoutMs: number;
  commitIntervalMs: number;
  /** Unacknowledged output records that make the loop commit (and so wait) before reading more. */
  maxInFlight: number;
  /** How long a task of several inputs waits for an empty one (see PartitionQueues): Kafka Streams' `max.task.idle.ms`. */
  maxTaskIdleMs: number;
  /** The longest wait for an empty input whose records are on the broker but not fetched yet (a safety valve; see PartitionQueues). */
  undeliveredWaitMs: number;
  /** The longest wait for an empty input whose state the consumer does not know yet. */
  unknownWaitMs?: number;
}

/**
 * The poll → process → commit loop of one instance. Records are processed synchronously, batch
 * by batch; the loop awaits only the poll and the commit. The commit protocol (at-least-once or
 * exactly-once) makes outputs and positions durable: nothing is committed that is not durable.
 * While the producer is behind, the loop commits instead of reading, so consumption pauses
 * rather than memory growing.
 */
export class ProcessingLoop {
  private stopping = false;
  private readonly lock = new Mutex();
  private nextCommitAt = 0;
  private readonly source: RecordSource;
  /** False while a batch is being handed to the tasks, and after one that stopped part way. */
  private batchTaken = true;
  /** Pauses inputs of tasks of several inputs while they hold many records. */
  private readonly backpressure: InputBackpressure;
  private readonly output: LoopOutput;
  private readonly protocol: CommitProtocol;
  private readonly tasks: Tasks;
  private readonly options: LoopOptions;
  private readonly log: Logger;
  /** Wall-clock time: commit intervals, wall-clock punctuation, pauses (Date.now, or a test driver's clock). */
  private readonly clock: () => number;
  processed = 0;
  commits = 0;
  /** Times the tasks went back to the last commit (exactly-once, after an aborted transaction). */
  rewinds = 0;
  /** Records consumed per topic. */
  readonly consumedByTopic = new Map<string, number>();
  /** Times a damaged store was wiped and restored. */
  recoveries = 0;
  /** Times the loop paused because an external system was unavailable. */
  externalPauses = 0;
  private unavailableSince: number | undefined;
  private pauseMs = 0;
  /** Told how long each commit took, in seconds. */
  onCommitted: (seconds: number) => void = () => {};
  /** Told of the positions each commit committed, none when idle (the repartition topics' purge). */
  onOffsetsCommitted: (offsets: TopicPartitionOffset[]) => void = () => {};

  constructor(parts: LoopParts) {
    this.source = parts.source;
    this.backpressure = new InputBackpressure(parts.source);
    this.output = parts.output;
    this.protocol = parts.protocol;
    this.tasks = parts.tasks;
    this.options = parts.options;
    this.log = parts.log;
    this.clock = parts.clock ?? Date.now;
  }

  /** Runs until `stop()`, then commits what was processed; true when that last commit committed. Rejects on a fatal error. */
  async run(): Promise<boolean> {
    this.nextCommitAt = this.clock() + this.options.commitIntervalMs;
    while (!this.stopping) await this.lock.run(() => this.step());
    return this.lock.run(() => this.commit({ drain: true, closing: true }));
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
   * (2) make every record sent and the input positions durable (the commit protocol: delivery
   * then offsets, or one transaction); (3) write the stores' LevelDB batches; (4) write the
   * checkpoints. A store never holds a change its changelog lacks (under exactly-once, one its
   * changelog has not committed), so replaying the changelog from a checkpoint always brings
   * the store and its changelog into agreement. If the protocol aborted, the tasks go back to
   * the last commit instead. A `drain` commit (before tasks close or the loop stops) lets the
   * tasks finish their external writes first, so nothing they took stays uncommitted. True when
   * what was processed is committed; false when the tasks went back to the last commit instead.
   */
  async commit(options: { drain?: boolean; closing?: boolean } = {}): Promise<boolean> {
    try {
      return await this.commitOnce(options);
    } catch (err) {
      // Commit work passed records on (an async operator's): a producer that failed goes back to
      // the last commit, as in a batch; a record that failed with `fail` stops with its reason.
      if (err instanceof StopProcessing && !this.protocol.recoverable(err.reason)) throw err.reason;
      if (err instanceof StopProcessing) await this.abandonFailedProducer(err.reason);
      else if (err instanceof TaskCorrupted) await this.recover(err);
      else if (err instanceof FlushFailed) await this.replayWritingThrough(err);
      else if (this.protocol.guarantee === 'at_least_once' && findTooLarge(err)) await this.replayRefused(findTooLarge(err)!);
      else throw err;
      this.nextCommitAt = this.clock() + this.options.commitIntervalMs;
      return false;
    }
  }

  private async commitOnce(options: { drain?: boolean; closing?: boolean }): Promise<boolean> {
    const started = performance.now();
    const startedAt = this.clock();
    await this.protocol.prepare();
    let offsets;
    try {
      // Past transaction markers only when every record consumed went to its task (not after a failure mid-batch).
      offsets = await this.tasks.prepareCommit(options.drain ?? false, (topic, partition) => (this.batchTaken ? this.source.consumedUpTo(topic, partition) : undefined), options.closing ?? false);
    } catch (err) {
      if (!(err instanceof ExternalSystemUnavailable)) throw err;
      await this.pauseForExternalSystem(err);
      return false;
    }
    this.unavailableSince = undefined;
    this.pauseMs = 0;
    const outcome = await this.protocol.commit(offsets);
    if (outcome === 'aborted') {
      await this.rewind();
    } else {
      if (outcome === 'committed' && offsets.length > 0) {
        this.commits++;
        this.log.debug({ offsets: offsets.map((o) => `${o.topic}[${o.partition}]@${o.offset}`) }, 'offsets committed');
      }
      // Also when idle (no offsets): positions committed earlier may still be waiting for a purge.
      if (outcome === 'committed') this.onOffsetsCommitted(offsets);
      await this.tasks.finishCommit(outcome === 'committed' ? offsets : [], this.output);
      if (offsets.length > 0) this.onCommitted((performance.now() - started) / 1000);
    }
    // The interval runs from the start of this commit, as in Kafka Streams: a commit that takes
    // long under load must not stretch the time between commits (and cache flushes) by as much.
    this.nextCommitAt = startedAt + this.options.commitIntervalMs;
    return outcome === 'committed';
  }

  /**
   * An external system (a sink's database) is away: nothing since the last commit may become
   * durable, since its writes did not all happen. The tasks go back to the last commit (under
   * exactly-once, the transaction is aborted; under at-least-once, what was sent stays sent and
   * is sent again), then the loop waits before it reads again, 0.2 s doubling up to 10 s while
   * the system stays away. Nothing is read meanwhile, so memory stays bounded; the consumer's
   * background thread keeps the group membership alive.
   */
  private async pauseForExternalSystem(err: ExternalSystemUnavailable): Promise<void> {
    const now = this.clock();
    this.unavailableSince ??= now;
    this.pauseMs = this.pauseMs === 0 ? 200 : Math.min(this.pauseMs * 2, 10_000);
    this.externalPauses++;
    this.log.warn({ err: err.message, operator: err.operator, pauseMs: this.pauseMs, awayMs: now - this.unavailableSince }, 'an external system is unavailable; going back to the last commit and pausing');
    if (!(await this.protocol.abandon())) await this.output.flush().catch(() => undefined);
    await this.rewind();
    if (!this.stopping) await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
    this.nextCommitAt = this.clock() + this.options.commitIntervalMs;
  }

  /**
   * Drops the work since the last commit where the guarantee allows (exactly-once: the
   * transaction is aborted and the tasks go back to the last commit). Used when partitions are
   * lost: their records in the open transaction must not commit.
   */
  async abandon(): Promise<void> {
    if (await this.protocol.abandon()) await this.rewind();
  }

  /** The producer failed (fenced, or fatally): its transaction is dropped, the tasks go back to the last commit. */
  private async abandonFailedProducer(reason: unknown): Promise<void> {
    this.log.warn({ err: reason }, 'the producer failed; going back to the last commit');
    await this.abandon();
  }

  /**
   * Takes every task back to the last commit: the consumer's positions move to the committed
   * offsets, and the tasks are recreated, their stores reopened without the uncommitted
   * changes and caught up from their changelogs.
   */
  private async rewind(recreate?: Parameters<Tasks['reset']>[0]): Promise<void> {
    this.rewinds++;
    const partitions = this.tasks.assignedPartitions();
    await this.source.seekToCommitted(partitions);
    await this.tasks.reset(recreate);
    this.log.info({ partitions: partitions.length }, 'tasks went back to the last commit');
  }

  /**
   * An update could not be written at the commit, with no record to blame (see
   * {@link FlushFailed}): back to the last commit, the records processed again with that task's
   * caches writing through, so the failure comes back inside its record, whose error handling
   * applies.
   */
  private async replayWritingThrough(failed: FlushFailed): Promise<void> {
    this.log.warn({ task: failed.taskId, err: describeCause(failed.cause) }, 'an update could not be written at the commit; going back to the last commit to process the records again one write at a time');
    if (!(await this.protocol.abandon())) await this.output.flush().catch(() => undefined);
    await this.rewind({ writeThrough: new Set([failed.taskId]) });
  }

  /**
   * Under at-least-once, the broker refused records as too large for their topic (whose
   * `max.message.bytes` is below the producer's): the producer now refuses records that size
   * when they are sent, so going back to the last commit and processing again puts each such
   * record through its error handling. (Under exactly-once the aborted transaction does so.)
   */
  private async replayRefused(refused: DeliveryError): Promise<void> {
    this.log.warn({ err: refused.message }, 'the broker refused records as too large; going back to the last commit to route them by their error handling');
    await this.rewind();
  }

  /**
   * A task's store was found damaged: what was done since the last commit is dropped where the
   * guarantee allows (under at-least-once, what was sent stays sent and is sent again), and every
   * task goes back to the last commit, the damaged task's stores wiped and restored from their
   * changelogs. Nothing read from the damaged store is committed.
   */
  private async recover(corrupted: TaskCorrupted): Promise<void> {
    this.recoveries++;
    this.log.error({ task: corrupted.taskId, store: corrupted.corruption.store, err: describeCause(corrupted.corruption.cause) }, 'a store is damaged; wiping it, restoring it from its changelog and going back to the last commit');
    if (!(await this.protocol.abandon())) await this.output.flush().catch(() => undefined);
    await this.rewind({ wipe: new Set([corrupted.taskId]) });
  }

  /** Counts a batch's records per topic (a batch holds long runs of one partition). */
  private countConsumed(batch: ConsumedRecord[]): void {
    let topic = '';
    let run = 0;
    for (let i = 0; i < batch.length; i++) {
      const t = batch[i]!.topic;
      if (t !== topic) {
        if (run > 0) this.consumedByTopic.set(topic, (this.consumedByTopic.get(topic) ?? 0) + run);
        topic = t;
        run = 0;
      }
      run++;
    }
    if (run > 0) this.consumedByTopic.set(topic, (this.consumedByTopic.get(topic) ?? 0) + run);
  }

  /**
   * One turn of the loop: recovers a task a query found damaged, takes a batch, processes it
   * record by record, runs the wall-clock punctuations due, and commits when the interval has
   * passed, the producer is far behind, or a store asked. Throws the reason processing stopped.
   */
  async step(): Promise<void> {
    const damaged = this.tasks.takeDamaged();
    if (damaged) await this.recover(damaged);
    // Cleared once processed: this frame would otherwise keep every record of the batch alive
    // through the commit that may follow (its wait for delivery), so that they outlive more
    // young-generation collections and are promoted to the old generation.
    // While async operators have calls in flight, their results are passed on between polls: poll
    // briefly. Take no more than the fullest has room for: the consumer's read-ahead (bounded)
    // keeps the rest, where pausing the partition would drop it and fetch again only later.
    const pollTimeoutMs = this.tasks.background.inFlight > 0 ? Math.min(this.options.pollTimeoutMs, BACKGROUND_POLL_MS) : this.options.pollTimeoutMs;
    const room = this.tasks.background.room;
    const max = room === undefined ? this.options.maxBatch : Math.max(1, Math.min(this.options.maxBatch, room));
    let batch: ConsumedRecord[] | undefined = await this.source.consume(max, pollTimeoutMs);
    const count = batch.length;
    if (count > 0) await this.protocol.prepare();
    const fetching = this.tasks.prefetch(batch);
    if (fetching) await fetching;
    try {
      this.batchTaken = false;
      for (let i = 0; i < count; i++) {
        const record = batch[i]!;
        const task = this.tasks.forRecord(record.topic, record.partition);
        // No task: the partition was revoked while this batch was in flight; its new owner reads it.
        if (task === undefined) continue;
        const queues = task.queues;
        if (queues === undefined) task.process(record);
        else queues.push(record);
      }
      this.batchTaken = true;
      this.countConsumed(batch);
      batch = undefined;
      const now = this.clock();
      // Tasks of several inputs process what they took in timestamp order, as far as their inputs allow.
      if (this.tasks.queued) {
        if (count === 0) await this.protocol.prepare();
        this.tasks.drainQueued(now, this.source, this.options);
      }
      // What async operators finished goes on now, into the transaction this batch's outputs go to.
      if (this.tasks.background.ready) {
        if (count === 0) await this.protocol.prepare();
        this.tasks.background.resume();
      }
      if (this.tasks.queued || this.tasks.background.inFlight > 0 || this.backpressure.pausing) this.backpressure.update(this.tasks);
      // Wall-clock punctuation runs between batches, so a quiet stream still gets its calls.
      if (this.tasks.punctuationDue(now)) {
        if (count === 0) await this.protocol.prepare();
        this.tasks.punctuate(now);
      }
    } catch (err) {
      batch = undefined;
      if (err instanceof TaskCorrupted) {
        await this.recover(err);
        return;
      }
      if (!(err instanceof StopProcessing)) throw err;
      if (this.protocol.recoverable(err.reason)) {
        await this.abandonFailedProducer(err.reason);
        return;
      }
      // Commit what was processed before the failing record, then stop.
      await this.commit({ drain: true, closing: true }).catch((commitError) => this.log.error({ err: commitError }, 'final commit failed'));
      throw err.reason;
    }
    this.processed += count;
    if (this.clock() >= this.nextCommitAt || this.output.inFlight >= this.options.maxInFlight || this.tasks.commitRequested) await this.commit();
  }
}

/** How long a poll waits for records while async operators have calls in flight, in ms. */
const BACKGROUND_POLL_MS = 5;

/** The delivery failure behind `err` when every record it lost was refused as too large. */
function findTooLarge(err: unknown): DeliveryError | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof DeliveryError) return e.tooLarge > 0 && e.tooLarge === e.failed ? e : undefined;
  }
  return undefined;
}
