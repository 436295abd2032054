import { AsyncCallbackError, JoinerError } from '../errors.ts';
import { synchronous } from './synchronous.ts';

/**
 * Calls a join's joiner; when it throws, the error names the other side it was joining with
 * (`other` says which, asked only then), so the error handling and the dead-letter headers of
 * the record in hand show both sides.
 */
export function callJoiner<R>(operator: string, call: () => R, other: () => string): R {
  try {
    return synchronous(call(), operator, 'joiner');
  } catch (err) {
    if (err instanceof AsyncCallbackError) throw err;
    throw new JoinerError(operator, other(), err);
  }
}

/** A key as an error message shows it. */
export function shown(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key);
  if (Buffer.isBuffer(key)) return `0x${key.toString('hex').slice(0, 64)}`;
  try {
    return JSON.stringify(key) ?? String(key);
  } catch {
    return String(key);
  }
}
