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
export class SluiceError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

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

/** Records could not be delivered to the broker; nothing after them may be committed. */
export class DeliveryError extends SluiceError {
  readonly failed: number;

  constructor(failed: number, first: unknown) {
    super(
      'SLUICE_DELIVERY_FAILED',
      `${failed} record(s) were not acknowledged by the broker (first error: ${describeCause(first)}). ` +
        'Their input offsets were not committed, so they will be processed again after a restart; ' +
        'check that the topic exists and the broker is reachable.',
      { cause: first },
    );
    this.failed = failed;
  }
}

/** An operation did not finish within its bound. */
export class OperationTimeoutError extends SluiceError {
  constructor(operation: string, timeoutMs: number, hint: string) {
    super('SLUICE_TIMEOUT', `${operation} did not finish within ${timeoutMs} ms. ${hint}`);
  }
}

/** A short, single-line description of any thrown value, for messages and logs. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (cause && typeof cause === 'object' && 'message' in cause) return String(cause.message);
  return String(cause);
}
