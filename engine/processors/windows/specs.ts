/**
 * Window specifications, named and bounded as Kafka Streams names and bounds them. All times
 * are milliseconds. A spec is checked when a topology uses it (`windowedBy`), so the error
 * names the operator.
 */

/** A window's bounds: time windows are [start, end); sliding and session windows [start, end]. */
export interface WindowBounds {
  readonly start: number;
  readonly end: number;
}

/** A key and the window its aggregate belongs to: the key of a windowed table. */
export interface Windowed<K> {
  readonly key: K;
  readonly window: WindowBounds;
}

/**
 * Fixed-size windows aligned to the epoch: tumbling (advance = size) or hopping (advance <
 * size, so a record falls in several). A window is [start, start + size).
 *
 * @example
 * ```ts
 * TimeWindows.ofSizeAndGrace(60_000, 10_000); // one-minute windows, records up to 10 s late
 * TimeWindows.ofSizeWithNoGrace(60_000).advanceBy(10_000); // hopping: a minute every 10 s
 * ```
 */
export class TimeWindows {
  readonly kind = 'time';
  readonly sizeMs: number;
  readonly advanceMs: number;
  readonly graceMs: number;

  private constructor(sizeMs: number, advanceMs: number, graceMs: number) {
    this.sizeMs = sizeMs;
    this.advanceMs = advanceMs;
    this.graceMs = graceMs;
  }

  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    return new TimeWindows(sizeMs, sizeMs, graceMs);
  }

  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    return new TimeWindows(sizeMs, sizeMs, 0);
  }

  /** Hopping windows: a new window every `advanceMs` (at most the size). */
  advanceBy(advanceMs: number): TimeWindows {
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs);
  }

  /**
   * The start of the oldest window a record at `timestamp` falls in; the others start every
   * `advanceMs` after it, up to the timestamp.
   */
  firstWindowStart(timestamp: number): number {
    const start = Math.max(0, timestamp - this.sizeMs + this.advanceMs);
    return start - (start % this.advanceMs);
  }

  /** Why this spec cannot work, or undefined. */
  problem(): string | undefined {
    if (!positive(this.sizeMs)) return `the window size must be a positive number of milliseconds, not ${this.sizeMs}`;
    if (!positive(this.advanceMs)) return `the advance must be a positive number of milliseconds, not ${this.advanceMs}`;
    if (this.advanceMs > this.sizeMs) return `the advance (${this.advanceMs} ms) cannot exceed the window size (${this.sizeMs} ms)`;
    return graceProblem(this.graceMs);
  }

  toString(): string {
    const grace = `grace ${this.graceMs} ms`;
    return this.advanceMs === this.sizeMs ? `tumbling ${this.sizeMs} ms, ${grace}` : `hopping ${this.sizeMs} ms every ${this.advanceMs} ms, ${grace}`;
  }
}

/**
 * Windows of every span of `differenceMs` in which a key has records: each record is in the
 * windows that end at it and that start just after it, as Kafka Streams' sliding windows are.
 * A window is [start, start + difference], both ends included.
 */
export class SlidingWindows {
  readonly kind = 'sliding';
  readonly differenceMs: number;
  readonly graceMs: number;

  private constructor(differenceMs: number, graceMs: number) {
    this.differenceMs = differenceMs;
    this.graceMs = graceMs;
  }

  static ofTimeDifferenceAndGrace(differenceMs: number, graceMs: number): SlidingWindows {
    return new SlidingWindows(differenceMs, graceMs);
  }

  static ofTimeDifferenceWithNoGrace(differenceMs: number): SlidingWindows {
    return new SlidingWindows(differenceMs, 0);
  }

  problem(): string | undefined {
    if (!positive(this.differenceMs)) return `the time difference must be a positive number of milliseconds, not ${this.differenceMs}`;
    return graceProblem(this.graceMs);
  }

  toString(): string {
    return `sliding ${this.differenceMs} ms, grace ${this.graceMs} ms`;
  }
}

/**
 * Sessions: a key's records no more than `gapMs` apart, one window from the first
 * record's timestamp to the last's, both included. A record that bridges two sessions merges
 * them.
 */
export class SessionWindows {
  readonly kind = 'session';
  readonly gapMs: number;
  readonly graceMs: number;

  private constructor(gapMs: number, graceMs: number) {
    this.gapMs = gapMs;
    this.graceMs = graceMs;
  }

  static ofInactivityGapAndGrace(gapMs: number, graceMs: number): SessionWindows {
    return new SessionWindows(gapMs, graceMs);
  }

  static ofInactivityGapWithNoGrace(gapMs: number): SessionWindows {
    return new SessionWindows(gapMs, 0);
  }

  problem(): string | undefined {
    if (!positive(this.gapMs)) return `the inactivity gap must be a positive number of milliseconds, not ${this.gapMs}`;
    return graceProblem(this.graceMs);
  }

  toString(): string {
    return `session gap ${this.gapMs} ms, grace ${this.graceMs} ms`;
  }
}

export type WindowSpec = TimeWindows | SlidingWindows | SessionWindows;

/**
 * How long a spec's windows must be kept at least: until no record can reach them any more
 * (Kafka Streams' default retention for each kind).
 */
export function minimumRetention(spec: WindowSpec): number {
  switch (spec.kind) {
    case 'time':
      return spec.sizeMs + spec.graceMs;
    case 'sliding':
      return 2 * spec.differenceMs + spec.graceMs;
    case 'session':
      return spec.gapMs + spec.graceMs;
  }
}

/** The span a window of this spec covers, for the windowed key format (sessions: none). */
export function windowSize(spec: WindowSpec): number | undefined {
  return spec.kind === 'time' ? spec.sizeMs : spec.kind === 'sliding' ? spec.differenceMs : undefined;
}

function positive(ms: unknown): boolean {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0;
}

function graceProblem(graceMs: unknown): string | undefined {
  if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) return `the grace must be zero or a positive number of milliseconds, not ${String(graceMs)}`;
  return undefined;
}
