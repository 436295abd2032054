import { InvalidRecordError } from '../../errors.ts';

/**
 * The record's timestamp as a windowed operator needs it: a whole, non-negative number of
 * milliseconds. Anything else goes to the operator's error handling with the reason, never into
 * window 0.
 */
export function windowTimestamp(operator: string, timestamp: number): number {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new InvalidRecordError(operator, `its timestamp ${String(timestamp)} cannot place it in a window (a windowed operator needs a non-negative whole number of milliseconds; check the producer or the source's timestampExtractor)`);
  }
  return timestamp;
}
