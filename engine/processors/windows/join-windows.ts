/**
 * The window of a stream-stream join, named and bounded as Kafka Streams' `JoinWindows`: a
 * record of the other stream joins a record at time t when its timestamp lies in
 * [t - before, t + after], both ends included. `ofTimeDifference*` makes the window symmetric
 * (before = after = difference); `before` and `after` change one side. Records are kept
 * `before + after + grace` of stream time; a left or outer join sends an unmatched record on
 * (joined with null) only once its window has closed, `grace` after its end.
 *
 * @example
 * ```ts
 * JoinWindows.ofTimeDifferenceAndGrace(600_000, 60_000); // within ten minutes either way, a minute late at most
 * JoinWindows.ofTimeDifferenceWithNoGrace(10_000).before(0); // the other record at most 10 s after this one
 * ```
 */
export class JoinWindows {
  readonly kind = 'join';
  /** How long before a record the other stream's records it joins may be. */
  readonly beforeMs: number;
  /** How long after a record the other stream's records it joins may be. */
  readonly afterMs: number;
  readonly graceMs: number;

  private constructor(beforeMs: number, afterMs: number, graceMs: number) {
    this.beforeMs = beforeMs;
    this.afterMs = afterMs;
    this.graceMs = graceMs;
  }

  static ofTimeDifferenceAndGrace(differenceMs: number, graceMs: number): JoinWindows {
    return new JoinWindows(differenceMs, differenceMs, graceMs);
  }

  static ofTimeDifferenceWithNoGrace(differenceMs: number): JoinWindows {
    return new JoinWindows(differenceMs, differenceMs, 0);
  }

  /** The same window with `beforeMs` changed (it may be negative while before + after stays at least 0). */
  before(beforeMs: number): JoinWindows {
    return new JoinWindows(beforeMs, this.afterMs, this.graceMs);
  }

  /** The same window with `afterMs` changed (it may be negative while before + after stays at least 0). */
  after(afterMs: number): JoinWindows {
    return new JoinWindows(this.beforeMs, afterMs, this.graceMs);
  }

  /** The window's span: before + after. */
  get sizeMs(): number {
    return this.beforeMs + this.afterMs;
  }

  /** How long each stream's records are kept, of stream time. */
  get retentionMs(): number {
    return this.sizeMs + this.graceMs;
  }

  /** Why this spec cannot work, or undefined. */
  problem(): string | undefined {
    for (const [what, ms] of [['before', this.beforeMs], ['after', this.afterMs]] as const) {
      if (typeof ms !== 'number' || !Number.isSafeInteger(ms)) return `the time difference ${what} must be a whole number of milliseconds, not ${String(ms)}`;
    }
    if (this.sizeMs < 0) return `the window cannot end before it starts: before (${this.beforeMs} ms) + after (${this.afterMs} ms) must be at least 0`;
    if (typeof this.graceMs !== 'number' || !Number.isSafeInteger(this.graceMs) || this.graceMs < 0) return `the grace must be zero or a positive whole number of milliseconds, not ${String(this.graceMs)}`;
    return undefined;
  }

  toString(): string {
    const span = this.beforeMs === this.afterMs ? `within ${this.beforeMs} ms` : `from ${this.beforeMs} ms before to ${this.afterMs} ms after`;
    return `join window ${span}, grace ${this.graceMs} ms`;
  }
}
