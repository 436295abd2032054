import { AsyncCallbackError, JoinerError } from '../errors.ts';
import type { RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/** Says what a join was joining with when its joiner threw: `about` (a key), `at` (a timestamp) as the call gave them. */
export type OtherSide = (about: unknown, at: number | undefined) => string;

/**
 * Calls a join's joiner with its two sides in order; when it throws, the error names the other
 * side (`other`, made once per processor and asked only then), so the error handling and the
 * dead-letter headers of the record in hand show both sides. No closure per call: this is on
 * every joined record's path.
 */
export function callJoiner<A, B, K, R>(
  operator: string,
  joiner: (left: A, right: B, key: K, context: RecordContext) => R,
  left: A,
  right: B,
  key: K,
  context: RecordContext,
  other: OtherSide,
  about: unknown = key,
  at?: number,
): R {
  try {
    return synchronous(joiner(left, right, key, context), operator, 'joiner');
  } catch (err) {
    if (err instanceof AsyncCallbackError) throw err;
    throw new JoinerError(operator, other(about, at), err);
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
