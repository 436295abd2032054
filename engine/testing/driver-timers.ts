import type { Timers } from '../processors/background.ts';

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/**
 * Timers on the TestDriver's clock: nothing fires until the driver's wall-clock time is moved
 * on (`advanceWallClockTime`), then each timer due fires in due order, with the clock set to its
 * due time while it runs, so a timer it sets (a retry's back-off after a time-out) is due as
 * long after it as it would be in an application.
 */
export class DriverTimers implements Timers {
  private pending: Pending[] = [];
  private seq = 0;

  constructor(private readonly time: { now: number }) {}

  /** The driver's clock, in ms since the epoch. */
  get now(): number {
    return this.time.now;
  }

  after(delayMs: number, run: () => void): () => void {
    const entry: Pending = { at: this.time.now + Math.max(0, delayMs), seq: this.seq++, run };
    this.pending.push(entry);
    return () => {
      this.pending = this.pending.filter((p) => p !== entry);
    };
  }

  /** Moves the clock to `until`, firing every timer due by then on the way. */
  advanceTo(until: number): void {
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending) if (p.at <= until && (next === undefined || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p;
      if (next === undefined) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.time.now = Math.max(this.time.now, next.at);
      next.run();
    }
    this.time.now = until;
  }
}
