import type { PunctuationType } from '../../processors/processor.ts';
import { UsageError } from '../../errors.ts';

interface Punctuator {
  type: PunctuationType;
  intervalMs: number;
  /** When it is next due (wall-clock or stream time, by type); set at the first check. */
  due: number | undefined;
  punctuate: (timestamp: number) => void;
  cancelled: boolean;
}

/**
 * The punctuation schedules of one task. A schedule is due every `intervalMs` from the first
 * time it is checked; missed intervals are not replayed (one call covers them, as Kafka Streams
 * does), so a long pause never causes a burst of calls.
 */
export class Punctuators {
  private readonly all: Punctuator[] = [];
  private readonly next: Record<PunctuationType, number> = { 'wall-clock': Number.POSITIVE_INFINITY, 'stream-time': Number.POSITIVE_INFINITY };
  private readonly has: Record<PunctuationType, boolean> = { 'wall-clock': false, 'stream-time': false };

  schedule(intervalMs: number, type: PunctuationType, punctuate: (timestamp: number) => void): () => void {
    if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) throw new UsageError(`A punctuation interval must be a positive number of milliseconds, not ${intervalMs}.`);
    if (type !== 'wall-clock' && type !== 'stream-time') throw new UsageError(`A punctuation is 'wall-clock' or 'stream-time', not ${String(type)}.`);
    const punctuator: Punctuator = { type, intervalMs, due: undefined, punctuate, cancelled: false };
    this.all.push(punctuator);
    this.has[type] = true;
    this.next[type] = Number.NEGATIVE_INFINITY; // check at the next opportunity, which sets its first due time
    return () => {
      punctuator.cancelled = true;
    };
  }

  /** Cheap: whether any schedule of `type` may be due at `time`. */
  dueAt(type: PunctuationType, time: number): boolean {
    return this.has[type] && time >= this.next[type];
  }

  /** Calls every schedule of `type` due at `time`, then sets the next due times. */
  run(type: PunctuationType, time: number): void {
    let next = Number.POSITIVE_INFINITY;
    for (const p of this.all) {
      if (p.type !== type || p.cancelled) continue;
      if (p.due === undefined) p.due = time + p.intervalMs;
      else if (time >= p.due) {
        p.due = time + p.intervalMs - ((time - p.due) % p.intervalMs);
        p.punctuate(time);
      }
      if (!p.cancelled && p.due < next) next = p.due;
    }
    this.next[type] = next;
  }
}
