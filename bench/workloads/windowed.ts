/**
 * The windowed count: each system counts records per key in one-minute tumbling windows with a
 * grace period, on the records' own timestamps (event time), and writes the counts with Kafka
 * Streams' windowed key format (the key's bytes, then the window start as 8 big-endian bytes) and
 * the count as decimal text.
 *
 * Record `i` gets the key of `stateful-count` (a fixed hash of `i`) and an event time that grows
 * evenly over the span (an hour), from which some records are held back: most by nothing, a share
 * by up to a few seconds (out of order, but within the grace period), a small share by more than
 * the window and its grace together (late: dropped). Everything follows from `i` and the params,
 * so the generator and the checker agree without storing the input.
 *
 * Which records are late is decided as Kafka Streams decides it: per input partition (per task),
 * stream time is the largest timestamp seen so far, and a record whose window ends at or before
 * stream time minus the grace period is dropped. The checker replays that over the input, placing
 * each key as the producer that loaded it did (murmur2, as the Java client).
 */
import { partitionForKey } from '../../engine/kafka/murmur2.ts';
import type { Params } from '../context.ts';
import { keyIndex, keyName, mix } from './stateful.ts';

/** What is emitted: each window's count once per commit (the record cache), or once when it closes. */
export type WindowEmit = 'updates' | 'final';

/** The windowed workloads' params, beside the input's size. */
export interface WindowParams {
  /** Event time of record 0: a whole hour, two hours before the load (recent, so retention never deletes the input). */
  startMs: number;
  /** The event times of the records spread evenly over this. */
  spanMs: number;
  sizeMs: number;
  graceMs: number;
  emit: WindowEmit;
  /** The share of records held back by up to `jitterMaxMs` (out of order within the grace period). */
  jitteredShare: number;
  jitterMaxMs: number;
  /** The share of records held back by `lateDelayMs[0]` to `lateDelayMs[1]`: more than a window and its grace. */
  lateShare: number;
  lateDelayMs: [number, number];
}

const HOUR_MS = 3_600_000;

/** The params of a windowed workload as the issue states them: one-minute windows, 10 s grace, an hour of event time. */
export function windowParams(emit: WindowEmit, now = Date.now()): WindowParams {
  return {
    startMs: Math.floor(now / HOUR_MS) * HOUR_MS - 2 * HOUR_MS,
    spanMs: HOUR_MS,
    sizeMs: 60_000,
    graceMs: 10_000,
    emit,
    jitteredShare: 0.2,
    jitterMaxMs: 5_000,
    lateShare: 0.005,
    lateDelayMs: [80_000, 140_000],
  };
}

/** The environment a system reads the windows from. */
export function windowEnv(w: WindowParams): Record<string, string> {
  return { BENCH_WINDOW_SIZE_MS: String(w.sizeMs), BENCH_WINDOW_GRACE_MS: String(w.graceMs), BENCH_WINDOW_EMIT: w.emit };
}

function windowsOf(p: Params): WindowParams {
  if (!p.windows) throw new Error('a windowed workload needs params.windows');
  return p.windows;
}

/** How far record `i`'s event time is held back from its even place in the span. */
function delayOf(i: number, w: WindowParams): number {
  // A second hash of i, so the delay does not follow the key.
  const h = mix(mix(i) ^ 0x85ebca6b);
  const roll = (h % 100_000) / 100_000;
  const spread = h >>> 12; // 20 bits, independent enough of the roll for this
  if (roll < w.lateShare) return w.lateDelayMs[0] + (spread % (w.lateDelayMs[1] - w.lateDelayMs[0]));
  if (roll < w.lateShare + w.jitteredShare) return spread % w.jitterMaxMs;
  return 0;
}

/** The event time (the Kafka record timestamp) of record `i`. */
export function windowedTimestamp(i: number, p: Params): number {
  const w = windowsOf(p);
  return w.startMs + Math.floor((i * w.spanMs) / p.records) - delayOf(i, w);
}

/** The start of the tumbling window holding `timestamp` (windows are aligned to the epoch, as Kafka Streams' are). */
export function windowStart(timestamp: number, sizeMs: number): number {
  return timestamp - (timestamp % sizeMs);
}

/** A windowed key as Kafka Streams' time-windowed serializer writes it: the key's bytes, then the start as a big-endian 64-bit integer. */
export function windowedKey(key: string, start: number): Buffer {
  const length = Buffer.byteLength(key);
  const bytes = Buffer.allocUnsafe(length + 8);
  bytes.write(key, 0, 'utf8');
  bytes.writeUInt32BE(Math.floor(start / 0x1_0000_0000), length);
  bytes.writeUInt32BE(start % 0x1_0000_0000, length + 4);
  return bytes;
}

/** The inner key and window start of a windowed key; undefined if it is too short to be one. */
export function parseWindowedKey(bytes: Buffer): { key: string; start: number } | undefined {
  if (bytes.length < 9) return undefined;
  const at = bytes.length - 8;
  return { key: bytes.toString('utf8', 0, at), start: bytes.readUInt32BE(at) * 0x1_0000_0000 + bytes.readUInt32BE(at + 4) };
}

/**
 * The true outcome of the input, replayed as Kafka Streams processes it: every (key, window)
 * cell's count, the records dropped as late, and each partition's final stream time (which
 * decides the windows that have closed by the end).
 */
export interface ExpectedWindows {
  /** The start of window column 0. */
  firstStart: number;
  /** Window columns per key. */
  columns: number;
  /** Count per cell, `key * columns + column`. */
  counts: Uint32Array;
  /** The input partition of each key. */
  partitionOfKey: Uint16Array;
  /** Each input partition's stream time after the last record. */
  finalStreamTime: Float64Array;
  late: number;
  counted: number;
}

export function expectedWindows(p: Params): ExpectedWindows {
  const w = windowsOf(p);
  const firstStart = windowStart(w.startMs - w.lateDelayMs[1], w.sizeMs);
  const columns = Math.ceil((w.startMs + w.spanMs - firstStart) / w.sizeMs) + 1;
  const counts = new Uint32Array(p.keys * columns);
  const partitionOfKey = new Uint16Array(p.keys);
  for (let k = 0; k < p.keys; k++) partitionOfKey[k] = partitionForKey(Buffer.from(keyName(k)), p.partitions);
  const streamTime = new Float64Array(p.partitions).fill(-Infinity);
  let late = 0;
  let counted = 0;
  for (let i = 0; i < p.records; i++) {
    const k = keyIndex(i, p.keys, 'hashed');
    const partition = partitionOfKey[k]!;
    const timestamp = windowedTimestamp(i, p);
    if (timestamp > streamTime[partition]!) streamTime[partition] = timestamp;
    const start = windowStart(timestamp, w.sizeMs);
    if (start + w.sizeMs + w.graceMs <= streamTime[partition]!) {
      late++;
      continue;
    }
    counts[k * columns + (start - firstStart) / w.sizeMs]!++;
    counted++;
  }
  return { firstStart, columns, counts, partitionOfKey, finalStreamTime: streamTime, late, counted };
}

/**
 * Checks a system's output against the replay. Every update (`updates`): the last count written
 * for each (key, window) must be its true count, and every window with records must appear.
 * Final only (`final`): each window closed by the end (its end plus the grace at or before its
 * partition's final stream time) must appear exactly once with its true count, and no window
 * still open may appear. Feed the output records in partition order.
 */
export class WindowedCountChecker {
  private readonly p: Params;
  private readonly w: WindowParams;
  private readonly expected: ExpectedWindows;
  private readonly last: Uint32Array;
  private readonly seen: Uint8Array;
  outputs = 0;
  malformed = 0;
  duplicates = 0;

  constructor(p: Params) {
    this.p = p;
    this.w = windowsOf(p);
    this.expected = expectedWindows(p);
    this.last = new Uint32Array(this.expected.counts.length);
    this.seen = new Uint8Array(this.expected.counts.length);
  }

  add(key: Buffer | null, value: Buffer | null): void {
    this.outputs++;
    const parsed = key === null ? undefined : parseWindowedKey(key);
    const index = parsed?.key.startsWith('user-') ? Number(parsed.key.slice(5)) : NaN;
    const column = parsed === undefined ? NaN : (parsed.start - this.expected.firstStart) / this.w.sizeMs;
    const count = value === null ? NaN : Number(value.toString('latin1'));
    if (!Number.isInteger(index) || index < 0 || index >= this.p.keys || !Number.isInteger(column) || column < 0 || column >= this.expected.columns || !Number.isInteger(count)) {
      this.malformed++;
      return;
    }
    const cell = index * this.expected.columns + column;
    if (this.seen[cell] === 1 && this.w.emit === 'final') this.duplicates++;
    this.seen[cell] = 1;
    this.last[cell] = count;
  }

  result(): { ok: boolean; outputs: number; windows: number; wrong: number; missing: number; unexpected: number; duplicates: number; malformed: number; late: number; counted: number } {
    const { counts, columns, firstStart, partitionOfKey, finalStreamTime, late, counted } = this.expected;
    let windows = 0;
    let wrong = 0;
    let missing = 0;
    let unexpected = 0;
    for (let k = 0; k < this.p.keys; k++) {
      const streamTime = finalStreamTime[partitionOfKey[k]!]!;
      for (let column = 0; column < columns; column++) {
        const cell = k * columns + column;
        const end = firstStart + (column + 1) * this.w.sizeMs;
        const due = counts[cell]! > 0 && (this.w.emit === 'updates' || end + this.w.graceMs <= streamTime);
        if (due) windows++;
        if (!this.seen[cell]) {
          if (due) missing++;
        } else if (!due) unexpected++;
        else if (this.last[cell] !== counts[cell]) wrong++;
      }
    }
    const ok = wrong === 0 && missing === 0 && unexpected === 0 && this.duplicates === 0 && this.malformed === 0;
    return { ok, outputs: this.outputs, windows, wrong, missing, unexpected, duplicates: this.duplicates, malformed: this.malformed, late, counted };
  }
}
