import { TransactionError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { StateMachine } from '../state-machine.ts';
import { KafkaCodes } from './errors.ts';

/** The shape of the client's errors that transactional calls report. */
interface TransactionalClientError {
  message?: string;
  code?: number;
  isFatal?: boolean;
  isRetriable?: boolean;
  isTxnRequiresAbort?: boolean;
}

/** One transactional call of the client: given the time it may take and its callback. */
export type TransactionalCall = (timeoutMs: number, done: (err: TransactionalClientError | null | undefined) => void) => void;

/**
 * Runs one transactional call of the client within `timeoutMs`, retrying retriable errors until
 * then (when `retry`), and maps errors to {@link TransactionError}. A call the client does not
 * answer within the bound (plus a grace) is `indefinite`, so nothing can hang on it.
 */
export async function boundedTransactionalCall(operation: string, call: TransactionalCall, options: { timeoutMs: number; retry: boolean; log: Logger }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const remaining = Math.max(deadline - Date.now(), 1);
    const err = await new Promise<TransactionalClientError | null | undefined | 'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), remaining + 5_000);
      call(remaining, (error) => {
        clearTimeout(timer);
        resolve(error);
      });
    });
    if (!err) return;
    if (err === 'timeout') throw new TransactionError(operation, 'indefinite', `the client did not answer within ${remaining} ms`);
    const details = { kafkaCode: err.code, cause: err };
    if (err.isFatal) throw new TransactionError(operation, 'fatal', err.message ?? String(err), details);
    if (err.isTxnRequiresAbort) throw new TransactionError(operation, 'abortable', err.message ?? String(err), details);
    if (err.code === KafkaCodes.TIMED_OUT) throw new TransactionError(operation, 'indefinite', err.message ?? String(err), details);
    if (options.retry && err.isRetriable && Date.now() < deadline) {
      options.log.warn({ operation, err: err.message, code: err.code }, 'transactional call failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    throw new TransactionError(operation, err.isRetriable ? 'indefinite' : 'abortable', err.message ?? String(err), details);
  }
}

/**
 * Where a transactional producer's transaction stands: none open; being begun; open (records
 * go into it); being committed or aborted; unknown (an abort failed: only a new client ends it).
 * A failed commit leaves it open, for the caller to abort.
 */
export type TransactionState = 'none' | 'beginning' | 'open' | 'committing' | 'aborting' | 'unknown';

const TRANSACTION_TRANSITIONS: Record<TransactionState, readonly TransactionState[]> = {
  none: ['beginning'],
  beginning: ['open', 'none'],
  open: ['committing', 'aborting'],
  committing: ['none', 'open'],
  aborting: ['none', 'unknown'],
  unknown: [],
};

export function newTransactionStates(): StateMachine<TransactionState> {
  return new StateMachine<TransactionState>('transaction', 'none', TRANSACTION_TRANSITIONS);
}
