import type { Logger } from '../observability/logger.ts';
import type { ConsumedRecord, RecordHeader } from '../kafka/records.ts';
export type { ConsumedRecord, RecordHeader };
import type { KeyValueStore, WriteContext } from '../../state/key-value-store.ts';
import type { CachingStore } from '../../state/caching-store.ts';

/**
 * What an operator can see of the record in hand besides its key and value. One object per
 * task, updated before each record: read it during the call, do not keep it.
 */
export interface RecordContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Milliseconds since the epoch; outputs inherit it. */
  readonly timestamp: number;
  /** The headers outputs will carry; input headers travel to outputs unless an operator replaces them. */
  headers: RecordHeader[] | undefined;
}

/** Passes a record on to the next node(s): a key of type `K` and a value of type `V`. */
export type Forward<K = unknown, V = unknown> = (key: K, value: V) => void;

/**
 * What a processor gets when a task builds it. `KOut` and `VOut` are the types of the records it
 * forwards (to every child with `next`, or to one by name with `children`).
 */
export interface ProcessorInit<KOut = unknown, VOut = unknown> {
  /** The node's name in the topology. */
  readonly name: string;
  readonly context: RecordContext;
  /** Sends to every child. */
  readonly next: Forward<KOut, VOut>;
  /** Sends to one child, by the child's node name (for operators that route, like split). */
  readonly children: ReadonlyMap<string, Forward<KOut, VOut>>;
  readonly log: Logger;
  /** The task's stores this node declared, by name. */
  readonly stores: StoreProvider;
  /**
   * Sets the context's timestamp and headers to those of an earlier write, for records a node
   * forwards outside the processing of a record (a cache flush).
   */
  readonly restoreContext: (write: WriteContext | undefined) => void;
  /**
   * Calls `punctuate` every `intervalMs`: of wall-clock time (checked between batches, so a quiet
   * stream still gets its calls) or of stream time (the largest record timestamp the task has
   * seen, checked after each record). While it runs, the context's timestamp is the punctuation's
   * time and there is no input record; what it forwards goes downstream as records do. Returns a
   * function that cancels the schedule.
   */
  readonly schedule: (intervalMs: number, type: PunctuationType, punctuate: (timestamp: number) => void) => () => void;
  /**
   * Registers work every commit awaits before anything becomes durable, such as passing on what
   * a sink has written to an external system since the last commit. It may forward (set the
   * context with `restoreContext` first); what it forwards commits with the rest. A `drain`
   * commit is the last before the task closes or the application stops: the work should finish
   * everything it has in flight. If it throws an {@link ExternalSystemUnavailable}, nothing
   * commits: the tasks go back to the last commit and processing resumes after a pause that
   * doubles while the system stays away. Anything else it throws stops the application.
   */
  readonly onCommit: (work: (commit: CommitWork) => Promise<void>) => void;
  /**
   * Holds back how far the task's input may be committed, as Kafka Connect's `preCommit` does:
   * `position` returns the first record this node has taken but not finished with (its
   * external write is still in flight), or undefined when it has none (or the first of each
   * input topic, for a node of a task reading several). A commit then commits
   * that topic's position no further, so the records from there on are processed again after a
   * crash or a rewind; the node must recognise the ones it had finished (a sink keeps its own
   * position in the external system).
   */
  readonly holdPosition: (position: () => TopicOffset | readonly TopicOffset[] | undefined) => void;
  /** Registers a release (a connection pool's) to run when the task closes. */
  readonly onClose: (release: () => Promise<void> | void) => void;
  /**
   * Wall-clock time in ms since the epoch: Date.now() in an application, the driver's clock
   * under the test driver. Operators that measure waiting (lingers, timeouts) read it here.
   */
  readonly wallClock: () => number;
  /** Asks the loop to commit after the batch in hand (an operator holding much uncommitted work). */
  readonly requestCommit: () => void;
  /** The record in hand as it was consumed (its original bytes); undefined outside a record. */
  readonly record: () => ConsumedRecord | undefined;
  /**
   * Applies this node's error handling to a record that failed after it was processed (a write
   * to an external system that failed for good): a dead-letter record with its original bytes,
   * a log line, or a stop.
   */
  readonly fail: (raw: ConsumedRecord, error: unknown) => void;
  /**
   * Numbers the node keeps across restarts and rebalances, committed with the task's input
   * positions (a windowed aggregation's observed stream time): what was set when the last commit
   * was made is there again when the task starts anywhere. Keys are the node's to choose (its
   * store's name); keep them few.
   */
  readonly metadata: ProcessorMetadata;
  /**
   * Drops the record in hand as late for `store` (its windows had closed): it is counted
   * (`sluice_late_records_total`) and, when the operator was given `onLate`, sent to that
   * dead-letter topic with its original bytes and `reason`.
   */
  readonly late: (store: string, reason: string) => void;
  /**
   * Drops the record in hand as the operator's specification says (a join skipping a record
   * with a null key): it is counted (`sluice_dropped_records_total`, per operator) and a warning
   * names it at most once a minute.
   */
  readonly skip: (reason: string) => void;
}

/** See {@link ProcessorInit.metadata}. */
export interface ProcessorMetadata {
  get(key: string): number | undefined;
  set(key: string, value: number): void;
}

/** What a commit tells the work registered with `onCommit`. */
export interface CommitWork {
  /** True for the last commit before the task closes or the application stops, and for the TestDriver's commit after each call. */
  readonly drain: boolean;
  /** True when the task closes after this commit (a rebalance, a shutdown): work still in flight is to be given up, not awaited. */
  readonly closing?: boolean;
}

/** A position in one of the task's input topics: the offset of a record of its partition. */
export interface TopicOffset {
  readonly topic: string;
  readonly offset: number;
}

/** What drives a punctuation: the machine's clock, or the records' timestamps. */
export type PunctuationType = 'wall-clock' | 'stream-time';

/** A task's stores, as operators see them. */
export interface StoreProvider {
  get<K, V>(name: string): KeyValueStore<K, V>;
  /** The caching layer of a store, for operators that forward what a flush passes down. */
  cache<K, V>(name: string): CachingStore<K, V>;
  /**
   * The entries of a store declared with `preload`, as restored when the task started, in the
   * byte order of their keys: for rebuilding an in-memory index in the factory, where nothing
   * may await. Only while the task's processors are built.
   */
  restored<K, V>(name: string): Array<[K, V]>;
  /** The bytes a store writes for `key` (its key serde's): for ordering keys as the store does. */
  keyBytes<K>(name: string, key: K): Buffer;
  /**
   * For a windowed store: a time every window it held when the task started lies before (a
   * window's start; a session's end). A window at or after it was not in the store then.
   */
  windowTimeBound(name: string): number;
}

/** A table's update: the new value and the one it replaces (null: none, or deleted). */
export interface Change<V> {
  readonly newValue: V | null;
  readonly oldValue: V | null;
}

/**
 * An operator's factory: called once per task to build the node's per-record function. It holds
 * per-task state in its closure; the returned function must not await. It takes records with
 * keys of type `KIn` and values of type `VIn`, and forwards `KOut` and `VOut`: `stream.process`
 * infers its output stream's types from them.
 *
 * @example
 * ```ts
 * const upper: ProcessorSupplier<string, string, string, string> = ({ next }) => (key, value) => next(key, value.toUpperCase());
 * ```
 */
export type ProcessorSupplier<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> = (init: ProcessorInit<KOut, VOut>) => RecordProcessor<KIn, VIn>;

/**
 * A node's per-record function. It is synchronous: what it returns is ignored, but an `async`
 * function (one returning a promise) is a compile error, and at run time an `AsyncCallbackError`.
 */
export type RecordProcessor<K = unknown, V = unknown> = (key: K, value: V) => NotAPromise;

/**
 * A typed supplier as the logical graph keeps it, its types erased: the DSL checked them where it
 * recorded the node, and the runtime passes records on as they come.
 */
export function untyped<KIn, VIn, KOut, VOut>(supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>): ProcessorSupplier {
  return supplier as unknown as ProcessorSupplier;
}

/** Anything but a promise (an object with a `then` method). */
export type NotAPromise = void | null | undefined | string | number | boolean | bigint | symbol | (object & { then?: never });

/** Reads a header as a string (the last one, if the name repeats). */
export function headerValue(headers: RecordHeader[] | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (let i = headers.length - 1; i >= 0; i--) {
    const value = headers[i]![name];
    if (value !== undefined) return typeof value === 'string' ? value : value.toString('utf8');
  }
  return undefined;
}
