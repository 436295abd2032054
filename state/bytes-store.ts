/** Options of a scan. Bounds are inclusive (`from`) and exclusive (`to`), in byte order. */
export interface RangeOptions {
  from?: Buffer;
  to?: Buffer;
  /** Only keys starting with these bytes (combined with the bounds). */
  prefix?: Buffer;
  limit?: number;
  reverse?: boolean;
}

/**
 * How far a store reflects its changelog: the next offset of `topic`[`partition`] it has not
 * applied. Kept with the data and written in the same batch, so the two cannot disagree.
 */
export interface StorePosition {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * The bottom of a store stack: bytes in, bytes out. Writes are staged in memory and reach the
 * storage as one batch at `write()`; `get` sees staged writes first, so a store reads its own
 * writes before they are durable. Scans read what was written, not what is staged.
 */
export interface BytesStore {
  readonly name: string;
  /** Synchronous: the per-record path never awaits. */
  get(key: Buffer): Buffer | undefined;
  /** What storage holds for `key`, ignoring staged writes: the last written (committed) state. */
  getWritten(key: Buffer): Buffer | undefined;
  /** Stages a write; `null` deletes. `timestamp` is the time of the record that caused it. */
  put(key: Buffer, value: Buffer | null, timestamp?: number): void;
  /** Writes everything staged as one batch, with the changelog position it reflects (if given). */
  write(position?: StorePosition): Promise<void>;
  /** Writes a restored batch straight to storage, bypassing any layer above, with the position it brings the store to. */
  restore(entries: Array<[Buffer, Buffer | null]>, position?: StorePosition): Promise<void>;
  /** The changelog position written with the data, if any. */
  position(): StorePosition | undefined;
  range(options?: RangeOptions): AsyncIterable<[Buffer, Buffer]>;
  /**
   * Deletes every written key in [from, to) from storage at once, outside the staged batch and
   * the changelog (a windowed store's expired segments).
   */
  clearRange(from: Buffer, to: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** The smallest key greater than every key with this prefix, if there is one. */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** Narrows `from`/`to` to the prefix's range. */
export function bounds(options: RangeOptions): { from?: Buffer; to?: Buffer } {
  let { from, to } = options;
  if (options.prefix) {
    if (!from || Buffer.compare(from, options.prefix) < 0) from = options.prefix;
    const end = prefixEnd(options.prefix);
    if (end && (!to || Buffer.compare(end, to) < 0)) to = end;
  }
  return { from, to };
}
