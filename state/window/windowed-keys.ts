import type { Codec } from '../codec.ts';
import { StoreError } from '../sluice-error.ts';

/** A key and its window, as the state layer sees it (the DSL's `Windowed<K>`). */
export interface WindowedKey<K> {
  readonly key: K;
  readonly window: { readonly start: number; readonly end: number };
}

/** Time windows (and sliding windows) are keyed by their start; sessions by end, then start. */
export type WindowKind = 'time' | 'session';

const TWO_32 = 2 ** 32;

/** Writes a non-negative safe integer as 8 big-endian bytes (Java's long), so byte order is time order. */
export function writeTime(buffer: Buffer, time: number, at: number): void {
  buffer.writeUInt32BE(Math.floor(time / TWO_32), at);
  buffer.writeUInt32BE(time % TWO_32, at + 4);
}

export function readTime(buffer: Buffer, at: number): number {
  return buffer.readUInt32BE(at) * TWO_32 + buffer.readUInt32BE(at + 4);
}

function checkTime(time: number, what: string): void {
  if (!Number.isSafeInteger(time) || time < 0) throw new StoreError(`A window's ${what} must be a non-negative whole number of milliseconds, not ${time}.`);
}

/**
 * Kafka Streams' windowed key formats, the bytes `to(topic)` writes for a windowed key: for
 * time windows the key's bytes and the window's start (8 bytes, big-endian); for sessions the
 * key's bytes, the session's end, then its start. A time window's end is not written: reading
 * one back needs the window size.
 */
export function windowedKeyFormat<K>(inner: Codec<K>, kind: WindowKind, sizeMs: number | undefined): Codec<WindowedKey<K>> {
  const tail = kind === 'time' ? 8 : 16;
  return {
    serialize(windowed, topic) {
      if (windowed === null || windowed === undefined) return null;
      const key = inner.serialize(windowed.key, topic);
      if (key === null) return null;
      return withWindow(key, windowed.window, kind, 0);
    },
    deserialize(data, topic) {
      if (data === null) return null as unknown as WindowedKey<K>;
      if (data.length < tail) throw new StoreError(`A ${kind}-windowed key has at least ${tail} bytes (its window) and this one has ${data.length}.`);
      const key = inner.deserialize(data.subarray(0, data.length - tail), topic);
      return { key, window: readWindow(data, data.length - tail, kind, sizeMs) };
    },
  };
}

/** The window's times after the key bytes, `offset` bytes into a new buffer. */
function withWindow(key: Buffer, window: WindowedKey<unknown>['window'], kind: WindowKind, offset: number): Buffer {
  const tail = kind === 'time' ? 8 : 16;
  const bytes = Buffer.allocUnsafe(offset + key.length + tail);
  key.copy(bytes, offset);
  const at = offset + key.length;
  if (kind === 'time') {
    checkTime(window.start, 'start');
    writeTime(bytes, window.start, at);
  } else {
    checkTime(window.start, 'start');
    checkTime(window.end, 'end');
    writeTime(bytes, window.end, at);
    writeTime(bytes, window.start, at + 8);
  }
  return bytes;
}

function readWindow(data: Buffer, at: number, kind: WindowKind, sizeMs: number | undefined): { start: number; end: number } {
  if (kind === 'time') {
    const start = readTime(data, at);
    return { start, end: start + (sizeMs ?? 0) };
  }
  return { end: readTime(data, at), start: readTime(data, at + 8) };
}

/**
 * A windowed store's keys: an 8-byte segment number (the window's start for time windows, the
 * session's end for sessions, divided by the segment interval), then the key in the windowed
 * key format. A segment is then one contiguous range of keys, so retention drops a whole
 * segment with one range deletion; within a segment a key's windows lie together, in time
 * order.
 */
export class SegmentedKeys<K> implements Codec<WindowedKey<K>> {
  readonly kind: WindowKind;
  readonly segmentIntervalMs: number;
  private readonly inner: Codec<K>;
  private readonly sizeMs: number | undefined;

  constructor(inner: Codec<K>, kind: WindowKind, sizeMs: number | undefined, segmentIntervalMs: number) {
    this.inner = inner;
    this.kind = kind;
    this.sizeMs = sizeMs;
    this.segmentIntervalMs = segmentIntervalMs;
  }

  /** The segment a window lies in. */
  segmentOf(window: WindowedKey<unknown>['window']): number {
    return Math.floor((this.kind === 'time' ? window.start : window.end) / this.segmentIntervalMs);
  }

  segmentPrefix(segment: number): Buffer {
    return segmentPrefix(segment);
  }

  serialize(windowed: WindowedKey<K>, topic: string): Buffer | null {
    if (windowed === null || windowed === undefined) return null;
    const key = this.inner.serialize(windowed.key, topic);
    if (key === null) return null;
    const bytes = withWindow(key, windowed.window, this.kind, 8);
    writeTime(bytes, this.segmentOf(windowed.window), 0);
    return bytes;
  }

  deserialize(data: Buffer | null, topic: string): WindowedKey<K> {
    if (data === null) return null as unknown as WindowedKey<K>;
    const tail = this.kind === 'time' ? 8 : 16;
    if (data.length < 8 + tail) throw new StoreError(`A windowed store's key has at least ${8 + tail} bytes and this one has ${data.length}: it was not written by a windowed store.`);
    return { key: this.inner.deserialize(data.subarray(8, data.length - tail), topic), window: readWindow(data, data.length - tail, this.kind, this.sizeMs) };
  }

  /**
   * The key and window as text, for keys that are strings or numbers: the window's times come
   * last, after a NUL, and hold none themselves, so two different windowed keys never share one.
   */
  identity(windowed: WindowedKey<K>): string | undefined {
    const key = windowed.key;
    const prefix = typeof key === 'string' ? 's' : typeof key === 'number' ? 'n' : undefined;
    if (prefix === undefined) return undefined;
    const { start, end } = windowed.window;
    return this.kind === 'time' ? `${prefix}${key}\u0000${start}` : `${prefix}${key}\u0000${start}\u0000${end}`;
  }

  /** The bytes of a key's windows in one segment start with these (longer keys too: check with {@link isWindowOf}). */
  keyPrefix(segment: number, key: K, topic: string): Buffer | undefined {
    const bytes = this.inner.serialize(key, topic);
    if (bytes === null) return undefined;
    return Buffer.concat([this.segmentPrefix(segment), bytes]);
  }

}

/**
 * Whether a windowed store's key (segment, key bytes, window) holds exactly the key whose bytes
 * are `inner`: a prefix scan of a segment and a key also finds the keys that merely start with it.
 */
export function isWindowOf(stored: Buffer, inner: Buffer, kind: WindowKind): boolean {
  return stored.length === 8 + inner.length + (kind === 'time' ? 8 : 16) && stored.subarray(8, 8 + inner.length).equals(inner);
}

/** After every segment's keys: segment numbers are times / interval, far below 2^63 (first byte below 0x80). */
export const SEGMENTS_END = Buffer.from([0x80]);

/** The first key of a segment (its 8 bytes); the segment's keys all start with them. */
export function segmentPrefix(segment: number): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  writeTime(bytes, segment, 0);
  return bytes;
}

/**
 * Kafka Streams' segment interval for a retention period: half of it, at least a minute. Few
 * segments per store, so dropping one frees much at once.
 */
export function segmentInterval(retentionMs: number): number {
  return Math.max(Math.floor(retentionMs / 2), 60_000);
}
