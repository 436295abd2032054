import { KafkaOperationError } from '../errors.ts';

/** The shape of librdkafka errors as the client reports them. */
interface ClientError {
  message?: string;
  code?: number;
  isRetriable?: boolean;
  isFatal?: boolean;
}

/** librdkafka error codes Sluice reacts to. */
export const KafkaCodes = {
  /** The client failed fatally (e.g. a fenced transactional producer); see its fatal error. */
  FATAL: -150,
  QUEUE_FULL: -184,
  /** A record larger than the producer's `message.max.bytes` or the topic's `max.message.bytes`. */
  MSG_SIZE_TOO_LARGE: 10,
  TIMED_OUT: -185,
  UNKNOWN_TOPIC_OR_PART: 3,
  TOPIC_ALREADY_EXISTS: 36,
  UNKNOWN_TOPIC_OR_PARTITION_LOCAL: -188,
} as const;

/**
 * Errors of a commit made while the group rebalances: the partitions may already be someone
 * else's. Nothing is lost (their next owner starts from the last commit), so they are not fatal.
 */
const REBALANCE_CODES = new Set([
  22, // ILLEGAL_GENERATION
  25, // UNKNOWN_MEMBER_ID
  27, // REBALANCE_IN_PROGRESS
  82, // FENCED_INSTANCE_ID
  113, // STALE_MEMBER_EPOCH
  -142, // local: assignment lost
  -172, // local: state (e.g. no assignment any more)
]);

export function isRebalanceError(err: unknown): boolean {
  const code = err instanceof KafkaOperationError ? err.kafkaCode : (err as { code?: number } | undefined)?.code;
  return code !== undefined && REBALANCE_CODES.has(code);
}

/** Wraps a client error in the catalogue's {@link KafkaOperationError}. */
export function kafkaError(operation: string, err: unknown): KafkaOperationError {
  const e = (err ?? {}) as ClientError;
  return new KafkaOperationError(operation, e.message ?? String(err), {
    kafkaCode: e.code,
    retriable: e.isRetriable,
    fatal: e.isFatal ?? e.code === KafkaCodes.FATAL,
    cause: err,
  });
}

/** Turns a node-style callback API into a promise, wrapping its error. */
export function promised<T>(operation: string, call: (done: (err: unknown, result?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    call((err, result) => (err ? reject(kafkaError(operation, err)) : resolve(result as T)));
  });
}
