import { SluiceError } from '../errors.ts';

/**
 * A query that cannot be answered as asked: carries the HTTP status, a stable code and what to
 * do about it. Every answer it makes is JSON: `{"error": code, "message", ...details}`.
 */
export class QueryError extends SluiceError {
  readonly status: number;
  /** The answer's `error`: a stable code of its own (`key-not-found`, `partition-unavailable`, ...; docs/errors.md). */
  readonly error: string;
  readonly details: Record<string, unknown>;
  /** Seconds after which asking again may succeed (503 answers). */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}, retryAfter?: number) {
    super('SLUICE_QUERY', message);
    this.status = status;
    this.error = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  get body(): Record<string, unknown> {
    return { error: this.error, message: this.message, ...this.details };
  }

  static badRequest(code: string, message: string, details?: Record<string, unknown>): QueryError {
    return new QueryError(400, code, message, details);
  }

  static notFound(code: string, message: string, details?: Record<string, unknown>): QueryError {
    return new QueryError(404, code, message, details);
  }

  /** The partition cannot be read right now (restoring, rebalancing, owner unreachable). */
  static unavailable(code: string, message: string, details: Record<string, unknown>, retryAfter = 1): QueryError {
    return new QueryError(503, code, message, details, retryAfter);
  }
}

/** A query parameter given at most once (a 400 `bad-parameter` when it is given twice). */
export function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw QueryError.badRequest('bad-parameter', `"${name}" may be given only once.`);
  return value;
}
