import type { BytesStore, RangeOptions } from './bytes-store.ts';
import type { Codec } from './codec.ts';
import { stampedCodec } from './expiring-store.ts';

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

  /** `topic` is passed to the codecs (the changelog topic). */
  constructor(bytes: BytesStore, keys: Codec<K>, values: Codec<V>, topic: string, options: CommittedReaderOptions = {}) {
    this.bytes = bytes;
    this.keys = keys;
    this.values = values;
    this.topic = topic;
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
    this.stamped = stampedCodec(values);
  }

  get(keyBytes: Buffer): V | undefined {
    const stored = this.bytes.getWritten(keyBytes);
    return stored === undefined ? undefined : this.decode(stored);
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
    for await (const [keyBytes, stored] of this.bytes.range(range)) {
      const value = this.decode(stored);
      if (value === undefined) continue;
      entries.push({ keyBytes, key: this.keys.deserialize(keyBytes, this.topic), value });
      if (entries.length >= limit) break;
    }
    return entries;
  }

  private decode(stored: Buffer): V | undefined {
    if (this.ttlMs === undefined) return this.values.deserialize(stored, this.topic);
    const stamped = this.stamped.deserialize(stored, this.topic);
    return stamped.time + this.ttlMs <= this.now() ? undefined : stamped.value;
  }
}
