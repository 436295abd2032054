import type { Logger } from '../observability/logger.ts';
import { describeCause, TopologyError } from '../errors.ts';
import type { CommitWork, ConsumedRecord, ProcessorSupplier, RecordHeader, TopicOffset } from './processor.ts';

/**
 * A system outside Kafka that records are written to: a database table, a search index, a
 * service. `stream.sink(sink)` runs it; the PostgreSQL sink (`toPostgres`) is one. A sink is
 * opened once per task and, through {@link SinkTask}, takes records as they come, does the work
 * each commit awaits, says how far the task's input may be committed, and closes.
 *
 * A sink reads a topic directly (the DSL puts a repartition topic in front of it when the stream
 * does not come straight from one), so it can keep its own position in that topic's offsets and
 * recognise the records it finished before a crash or a rewind.
 */
export interface Sink<K, V> {
  /**
   * A short lower-case word for the kind of sink, such as `postgres`: `describe` shows the
   * operator as `toPostgres`, and an unnamed one is named `KSTREAM-POSTGRES-0000000007`.
   */
  readonly kind: string;
  /**
   * Checks the sink's settings when the topology is built. Throw an `Error` whose message says
   * what to change; the DSL reports it as a `TopologyError` naming the operator.
   */
  check?(): void;
  /** Opens the sink in one task, when the task builds its processors. Must not await. */
  open(context: SinkContext): SinkTask<K, V>;
}

/** What a sink is told when a task opens it. */
export interface SinkContext {
  /** The sink operator's name in the topology (the same in every task and every instance). */
  readonly name: string;
  readonly log: Logger;
  /** Asks for a commit after the batch in hand (a sink holding many unfinished records). */
  readonly requestCommit: () => void;
  /** Wall-clock time in ms since the epoch (the driver's clock under the `TestDriver`). */
  readonly wallClock: () => number;
}

/** A sink in one task. */
export interface SinkTask<K, V> {
  /**
   * Takes one record (called on the per-record path: must not await). Start writing it, or keep
   * it for a later commit.
   */
  take(record: SinkRecord<K, V>): void;
  /**
   * The work every commit awaits before anything becomes durable. Returns what became of the
   * records finished since the last commit, in the order they were taken: those go on, as the
   * sink's `applied` and `failed` streams, inside the commit. A `drain` commit is the last before
   * the task closes: finish everything in flight. Throw an `ExternalSystemUnavailable` when the
   * system cannot be reached: nothing commits, the tasks go back to the last commit and
   * processing resumes after a pause.
   */
  commit(commit: CommitWork): Promise<Iterable<SinkOutcome<K, V>>>;
  /**
   * The first record taken but not finished (its input position), or undefined when there is
   * none: the task's input is committed no further, so the records from there on are processed
   * again after a crash, and the sink must recognise those it had finished.
   */
  position(): TopicOffset | undefined;
  /** Releases what the task held (connections); the last commit has run. */
  close(): Promise<void>;
}

/** A record a sink takes: its key and value, and the record as it was read from the topic. */
export interface SinkRecord<K, V> {
  readonly key: K;
  readonly value: V;
  /** The record as consumed: its topic, partition, offset and original bytes. */
  readonly raw: ConsumedRecord;
  readonly timestamp: number;
  readonly headers: RecordHeader[] | undefined;
}

/** What became of a record: written (no `error`), or failed for good with `error`. */
export interface SinkOutcome<K, V> {
  readonly record: SinkRecord<K, V>;
  readonly error?: Error;
  /** True when the outcome was decided by an earlier attempt, before a crash or a rewind. */
  readonly again?: boolean;
}

/** A record whose write failed for good, as a sink's `failed` stream carries it. */
export interface FailedWrite<V> {
  value: V;
  error: string;
}

/** The children a sink's processor forwards to: what was written, and what failed for good. */
export interface SinkRoutes {
  applied: string;
  failed: string;
}

/**
 * The processor that runs a {@link Sink} in a task: it hands each record to the sink with its
 * input position, passes on at each commit what the sink finished (written records to
 * `applied`; failures to the node's error handling, with their original bytes, and to `failed`),
 * holds the task's position at the first unfinished record, and closes the sink with the task.
 */
export function sinkProcessor<K, V>(sink: Sink<K, V>, routes: SinkRoutes): ProcessorSupplier<K, V> {
  return ({ name, context, children, onCommit, holdPosition, onClose, requestCommit, wallClock, record, fail, restoreContext, log }) => {
    const applied = children.get(routes.applied)!;
    const failed = children.get(routes.failed)!;
    const task = sink.open({ name, log, requestCommit, wallClock });

    const passOn = ({ record: taken, error, again }: SinkOutcome<K, V>) => {
      restoreContext({ timestamp: taken.timestamp, headers: taken.headers });
      if (error === undefined) {
        applied(taken.key, taken.value);
        return;
      }
      const reason = describeCause(error);
      log.warn({ topic: taken.raw.topic, partition: taken.raw.partition, offset: taken.raw.offset, err: reason, again: again ?? false }, 'write failed for good');
      fail(taken.raw, error);
      failed(taken.key, { value: taken.value, error: reason } satisfies FailedWrite<V>);
    };

    onCommit(async (commit) => {
      for (const outcome of await task.commit(commit)) passOn(outcome);
    });
    holdPosition(() => task.position());
    onClose(() => task.close());

    return (key, value) => {
      const raw = record();
      // Outside a record (a punctuation upstream) there is no position to keep.
      if (raw === undefined) throw new TopologyError(name, `the ${sink.kind} sink takes records read from a topic, not records a punctuation forwards; put a repartition() before it.`);
      task.take({ key, value, raw, timestamp: context.timestamp, headers: context.headers });
    };
  };
}
