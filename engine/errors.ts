/**
 * The error catalogue. Every error a user can cause or meet is a {@link SluiceError} with a
 * stable `code`, an optional `cause`, and a message that says what to do about it.
 * `docs/errors.md` lists every code; add a row there when you add a class here.
 *
 * @example
 * ```ts
 * try { await broker.start(); }
 * catch (err) { if (err instanceof SluiceError) console.error(err.code, err.message); }
 * ```
 */
import { SluiceError } from '../state/sluice-error.ts';

export { SluiceError, StoreError } from '../state/sluice-error.ts';

/** A configuration value is missing or invalid (flags, environment, config file). */
export class ConfigError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SLUICE_CONFIG', message, options);
  }
}

/** A program Sluice needs (Java, Maven) is not installed or too old. */
export class MissingToolError extends SluiceError {
  readonly tool: string;

  constructor(tool: string, message: string, options?: { cause?: unknown }) {
    super('SLUICE_MISSING_TOOL', message, options);
    this.tool = tool;
  }
}

/** The local development broker could not be resolved, started or stopped. */
export class LocalBrokerError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SLUICE_LOCAL_BROKER', message, options);
  }
}

/** The local development PostgreSQL could not be created, started or stopped. */
export class LocalPostgresError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SLUICE_LOCAL_POSTGRES', message, options);
  }
}

/** A call to Kafka failed. `kafkaCode` is librdkafka's error code where there is one. */
export class KafkaOperationError extends SluiceError {
  readonly operation: string;
  readonly kafkaCode: number | undefined;
  readonly retriable: boolean;
  readonly fatal: boolean;

  constructor(
    operation: string,
    message: string,
    details: { kafkaCode?: number; retriable?: boolean; fatal?: boolean; cause?: unknown } = {},
  ) {
    super('SLUICE_KAFKA', `${operation} failed: ${message}`, { cause: details.cause });
    this.operation = operation;
    this.kafkaCode = details.kafkaCode;
    this.retriable = details.retriable ?? false;
    this.fatal = details.fatal ?? false;
  }
}

/** A command names a topic that does not exist (`sluice topics`, `produce`, `consume`). */
export class UnknownTopicError extends SluiceError {
  readonly topic: string;

  constructor(topic: string, hint = `Create it first: sluice topics create ${topic} --partitions <n>.`) {
    super('SLUICE_UNKNOWN_TOPIC', `Topic "${topic}" does not exist. ${hint}`);
    this.topic = topic;
  }
}

/** `sluice topics create` names a topic that exists already. */
export class TopicExistsError extends SluiceError {
  readonly topic: string;

  constructor(topic: string) {
    super('SLUICE_TOPIC_EXISTS', `Topic "${topic}" exists already. Pass --if-not-exists to accept that, or delete it first (sluice topics delete ${topic}).`);
    this.topic = topic;
  }
}

/** A line of `sluice produce` input cannot be read as a record; nothing from that line on is sent. */
export class RecordInputError extends SluiceError {
  /** The 1-based line number in the input. */
  readonly line: number;

  constructor(line: number, problem: string, options?: { cause?: unknown }) {
    super('SLUICE_RECORD_INPUT', `Input line ${line}: ${problem}`, options);
    this.line = line;
  }
}

/** Records could not be delivered to the broker; nothing after them may be committed. */
export class DeliveryError extends SluiceError {
  readonly failed: number;
  /** How many of them the broker refused as larger than their topic accepts. */
  readonly tooLarge: number;

  constructor(failed: number, first: { error: unknown; topic: string; partition: number }, tooLarge = 0) {
    super(
      'SLUICE_DELIVERY_FAILED',
      `${failed} record(s) were not acknowledged by the broker (first error, for ${first.topic}[${first.partition}]: ${describeCause(first.error)})` +
        `${tooLarge > 0 ? `, ${tooLarge} of them refused as too large for their topic` : ''}. ` +
        'Their input offsets were not committed, so they will be processed again; ' +
        'check that the topic exists and the broker is reachable.',
      { cause: first.error },
    );
    this.failed = failed;
    this.tooLarge = tooLarge;
  }
}

/**
 * A record is larger than its topic takes: the producer's `message.max.bytes` (librdkafka's
 * default is 1,000,000 bytes), or the topic's `max.message.bytes` once the broker refused a
 * record that size. Thrown when the record is sent, so the record's error handling applies.
 */
export class RecordTooLargeError extends SluiceError {
  readonly topic: string;
  readonly bytes: number;
  readonly limit: number;

  constructor(topic: string, bytes: number, limit: number) {
    super(
      'SLUICE_RECORD_TOO_LARGE',
      `A record of ${bytes} bytes is larger than topic "${topic}" takes (${limit} bytes). Route such records to a dead-letter topic ` +
        "(they are written there truncated if they do not fit whole), or raise the topic's max.message.bytes and the producer's message.max.bytes.",
    );
    this.topic = topic;
    this.bytes = bytes;
    this.limit = limit;
  }
}

/**
 * How a failed transactional call leaves the transaction:
 * - `abortable`: the transaction must be aborted; the producer can go on afterwards;
 * - `fatal`: the producer is fenced or broken and must be replaced, never reused;
 * - `indefinite`: the call timed out, so whether it took effect is unknown: abort if possible,
 *   then replace the producer.
 */
export type TransactionFailure = 'abortable' | 'fatal' | 'indefinite';

/** A transactional call failed; `failure` says what the caller must do next. */
export class TransactionError extends SluiceError {
  readonly operation: string;
  readonly failure: TransactionFailure;
  readonly kafkaCode: number | undefined;

  constructor(operation: string, failure: TransactionFailure, message: string, details: { kafkaCode?: number; cause?: unknown } = {}) {
    super('SLUICE_TRANSACTION', `${operation} failed (${failure}): ${message}`, { cause: details.cause });
    this.operation = operation;
    this.failure = failure;
    this.kafkaCode = details.kafkaCode;
  }
}

/** An operation did not finish within its bound. */
export class OperationTimeoutError extends SluiceError {
  constructor(operation: string, timeoutMs: number, hint: string) {
    super('SLUICE_TIMEOUT', `${operation} did not finish within ${timeoutMs} ms. ${hint}`);
  }
}

/** Bytes could not be turned into a value, or a value into bytes. */
export class SerdeError extends SluiceError {
  readonly serde: string;
  readonly topic: string;

  constructor(serde: string, topic: string, problem: string, cause?: unknown) {
    super(
      'SLUICE_SERDE',
      `The ${serde} serde could not handle a record${topic ? ` of topic "${topic}"` : ''}: it ${problem}. ` +
        'Check the producer writes what this serde reads, or route such records to a dead-letter topic.',
      { cause },
    );
    this.serde = serde;
    this.topic = topic;
  }
}

/** A topology is invalid: names the operator and the reason, found before anything runs. */
export class TopologyError extends SluiceError {
  readonly operator: string | undefined;
  /** The topology file it came from, when one was loaded. */
  file: string | undefined;

  constructor(operator: string | undefined, message: string, options?: { cause?: unknown }) {
    super('SLUICE_TOPOLOGY', operator ? `Operator "${operator}": ${message}` : message, options);
    this.operator = operator;
  }
}

/** A topology file could not be loaded or does not export an application. */
export class TopologyFileError extends SluiceError {
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('SLUICE_TOPOLOGY_FILE', `${file}: ${message}`, options);
    this.file = file;
  }
}

/** A record failed in an operator and its handler says to stop. */
export class ProcessingError extends SluiceError {
  readonly operator: string;

  constructor(operator: string, where: string, cause: unknown) {
    super(
      'SLUICE_PROCESSING',
      `Operator "${operator}" failed on ${where}: ${describeCause(cause)}. The application stopped without committing ` +
        'this record; fix the operator, or configure a processing error handler (log-and-continue or a dead-letter topic).',
      { cause },
    );
    this.operator = operator;
  }
}

/**
 * A join's joiner threw: the record in hand goes to the join's error handling, and the message
 * names the other side it was being joined with (the other stream's record, the table's row).
 */
export class JoinerError extends SluiceError {
  readonly operator: string;

  constructor(operator: string, other: string, cause: unknown) {
    super('SLUICE_JOINER', `Operator "${operator}": the joiner threw joining with ${other}: ${describeCause(cause)}.`, { cause });
    this.operator = operator;
  }
}

/**
 * An operator's callback, or a custom processor's per-record function, returned a promise (it is
 * an `async` function, or returns one). Operators are synchronous: the promise would be neither
 * awaited nor kept in order, and what it resolves to would be lost. A processing error, routed
 * through the operator's error handling like any other; the promise's own failure is ignored.
 */
export class AsyncCallbackError extends SluiceError {
  readonly operator: string;
  /** Which callback: `mapper`, `predicate`, `per-record function`, ... */
  readonly callback: string;

  /** `instead`: the async operator that does what the callback meant (`mapValuesAsync`, ...). */
  constructor(operator: string, callback: string, instead?: string) {
    super(
      'SLUICE_ASYNC_CALLBACK',
      `Operator "${operator}": its ${callback} returned a promise (is it an async function?). This operator is synchronous: ` +
        'a record is processed to the end before the next one, so a promise would be neither awaited nor kept in order, ' +
        `and its result would be lost. For asynchronous work use ${instead ? `${instead}` : 'an async operator (mapValuesAsync, mapAsync, flatMapAsync, filterAsync, forEachAsync)'}, ` +
        'which awaits the promise with bounded concurrency, keeps each key in order and commits only what finished. See docs/async.md.',
    );
    this.operator = operator;
    this.callback = callback;
  }
}

/**
 * An async operator's call did not finish within its `timeoutMs`: its `AbortSignal` fired. The
 * attempt counts as failed (retried if attempts remain).
 */
export class AsyncTimeoutError extends SluiceError {
  readonly operator: string;

  constructor(operator: string, timeoutMs: number) {
    super('SLUICE_ASYNC_TIMEOUT', `Operator "${operator}": the async call did not finish within ${timeoutMs} ms (timeoutMs); its signal was aborted.`);
    this.operator = operator;
  }
}

/**
 * An async operator's call failed on every attempt: the record goes to the operator's error
 * handling (a dead-letter record with its original bytes), with the last attempt's error as the
 * cause.
 */
export class AsyncCallFailedError extends SluiceError {
  readonly operator: string;
  readonly attempts: number;

  constructor(operator: string, attempts: number, cause: unknown) {
    super('SLUICE_ASYNC_FAILED', `Operator "${operator}": the async call failed ${attempts === 1 ? 'once (no retries configured)' : `on all ${attempts} attempts`}; the last error: ${describeCause(cause)}.`, { cause });
    this.operator = operator;
    this.attempts = attempts;
  }
}

/**
 * An operator cannot use a record: the record has no key where the operator keeps state by key,
 * or a callback returned what the operator cannot work with for it (an id that is not a
 * non-empty string, a version or priority that is not a number, dependencies that are not an
 * array of ids). A processing error, routed through the operator's error handling like any other.
 */
export class InvalidRecordError extends SluiceError {
  readonly operator: string;

  constructor(operator: string, problem: string) {
    super(
      'SLUICE_INVALID_RECORD',
      `Operator "${operator}": ${problem}. Fix the callback (or the producer, for a missing key), or send such records to a dead-letter topic with onError.`,
    );
    this.operator = operator;
  }
}

/** The application cannot go on (a fatal Kafka error, a failed commit, a handler that says stop). */
export class ApplicationError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SLUICE_APPLICATION', message, options);
  }
}

/**
 * An external system an operator writes to (a database) cannot be reached or refused for a
 * reason that should pass. Thrown from commit work: nothing commits, the tasks go back to the
 * last commit, and processing resumes after a pause.
 */
export class ExternalSystemUnavailable extends SluiceError {
  readonly operator: string;

  constructor(operator: string, cause: unknown) {
    super('SLUICE_EXTERNAL_UNAVAILABLE', `Operator "${operator}" could not reach its external system: ${describeCause(cause)}. Processing pauses and retries.`, { cause });
    this.operator = operator;
  }
}

/** A lifecycle method was called in a state that does not allow it. */
export class IllegalStateError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_ILLEGAL_STATE', message);
  }
}

/** A short, single-line description of any thrown value, for messages and logs. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (cause && typeof cause === 'object' && 'message' in cause) return String(cause.message);
  return String(cause);
}

/** An API was called with an argument it cannot take (a punctuation interval, a clock step). */
export class UsageError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_USAGE', message);
  }
}
