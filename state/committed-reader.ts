import type { BytesStore, RangeOptions } from './bytes-store.ts';
import type { Codec } from './codec.ts';
import { stampedCodec } from './expiring-store.ts';
import { findStoreCorruption, type StoreCorruptedError } from './leveldb/store-errors.ts';

/** One entry of a scan: the key's bytes (for ordering and cursors), the key and the value. */
export interface ReadEntry<K, V> {
  keyBytes: Buffer;
  key: K;
  value: V;
}

export interface CommittedReaderOptions {
  /** For a store with a TTL: entries expire this long after their write. */
  ttlMs?: number;
  /** The store's clock (the task's stream time), for expiry. */
  now?: () => number;
  /** Told when a read finds the store's files damaged (the error is thrown on as well). */
  onCorruption?: (error: StoreCorruptedError) => void;
  /** For a windowed store: the earliest window time (start; a session's end) still within its retention. */
  liveFrom?: () => number;
}

/**
 * Reads what a store has committed: the state written to storage at the last commit, never the
 * changes still in the cache or staged, so a reader outside the task (an interactive query)
 * never sees a change that may yet be rolled back. Expired entries of a store with a TTL are
 * invisible, as they are to the task.
 */
export class CommittedReader<K, V> {
  private readonly bytes: BytesStore;
  private readonly keys: Codec<K>;
  private readonly values: Codec<V>;
  private readonly topic: string;
  private readonly ttlMs: number | undefined;
  private readonly now: () => number;
  private readonly stamped: Codec<{ value: V; time: number }>;
  private readonly onCorruption: ((error: StoreCorruptedError) => void) | undefined;
  /** For a windowed store: the earliest window time still within its retention (windows before it may linger until their segment is dropped). */
  readonly liveFrom: () => number;

  /** `topic` is passed to the codecs (the changelog topic). */
  constructor(bytes: BytesStore, keys: Codec<K>, values: Codec<V>, topic: string, options: CommittedReaderOptions = {}) {
    this.bytes = bytes;
    this.keys = keys;
    this.values = values;
    this.topic = topic;
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
    this.stamped = stampedCodec(values);
    this.onCorruption = options.onCorruption;
    this.liveFrom = options.liveFrom ?? (() => Number.NEGATIVE_INFINITY);
  }

  get(keyBytes: Buffer): V | undefined {
    let stored: Buffer | undefined;
    try {
      stored = this.bytes.getWritten(keyBytes);
    } catch (err) {
      throw this.reported(err);
    }
    return stored === undefined ? undefined : this.decode(stored);
  }

  /** Passes damage found by a read to the listener. */
  private reported(err: unknown): unknown {
    const corruption = findStoreCorruption(err);
    if (corruption) this.onCorruption?.(corruption);
    return err;
  }

  /**
   * Up to `limit` live entries in byte order of their keys, within the options' bounds (and
   * `after`, exclusive, for the next page of an earlier scan).
   */
  async scan(options: Omit<RangeOptions, 'limit' | 'reverse'> & { after?: Buffer; limit: number }): Promise<Array<ReadEntry<K, V>>> {
    const { after, limit, ...range } = options;
    if (after !== undefined) {
      const next = Buffer.concat([after, Buffer.from([0])]);
      if (!range.from || Buffer.compare(next, range.from) > 0) range.from = next;
    }
    const entries: Array<ReadEntry<K, V>> = [];
    if (limit <= 0) return entries;
    try {
      for await (const [keyBytes, stored] of this.bytes.range(range)) {
        const value = this.decode(stored);
        if (value === undefined) continue;
        entries.push({ keyBytes, key: this.keys.deserialize(keyBytes, this.topic), value });
        if (entries.length >= limit) break;
      }
    } catch (err) {
      throw this.reported(err);
    }
    return entries;
  }

  private decode(stored: Buffer): V | undefined {
    if (this.ttlMs === undefined) return this.values.deserialize(stored, this.topic);
    const stamped = this.stamped.deserialize(stored, this.topic);
    return stamped.time + this.ttlMs <= this.now() ? undefined : stamped.value;
  }
}
