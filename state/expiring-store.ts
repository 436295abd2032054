import type { Codec } from './codec.ts';
import type { KeyRange, KeyValueStore, WriteContext } from './key-value-store.ts';
import { StoreError } from './sluice-error.ts';

/** A value and the time it was written (milliseconds since the epoch). */
export interface Stamped<V> {
  value: V;
  time: number;
}

/** Bytes of a stamped value: the write time as an 8-byte big-endian double, then the value's bytes. */
export function stampedCodec<V>(values: Codec<V>): Codec<Stamped<V>> {
  return {
    serialize(stamped, topic) {
      const inner = values.serialize(stamped.value, topic) ?? Buffer.alloc(0);
      const bytes = Buffer.allocUnsafe(8 + inner.length);
      bytes.writeDoubleBE(stamped.time, 0);
      inner.copy(bytes, 8);
      return bytes;
    },
    deserialize(data, topic) {
      if (data === null || data.length < 8) throw new StoreError(`A value of a store with a TTL needs at least 8 bytes (its write time) and this one has ${data?.length ?? 0}: it was not written by that store.`);
      return { time: data.readDoubleBE(0), value: values.deserialize(data.subarray(8), topic) };
    },
  };
}

export interface ExpiryOptions {
  /** How long an entry lives after its last write, in milliseconds. */
  ttlMs: number;
  /**
   * The current time. The engine passes the task's stream time (the largest record timestamp
   * seen), so reprocessing the same records expires the same entries.
   */
  now: () => number;
}

/**
 * A store whose entries expire `ttlMs` after their last write. An expired entry is invisible at
 * once (reads and scans skip it); {@link sweep} deletes expired entries for good, a bounded
 * number per call, so their deletions reach the changelog and compaction frees them.
 */
export class ExpiringStore<K, V> implements KeyValueStore<K, V> {
  readonly name: string;
  private readonly inner: KeyValueStore<K, Stamped<V>>;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** Where the next sweep resumes (exclusive); undefined: from the start. */
  private cursor: { key: K } | undefined;
  /** The stream time when the last full pass over the store began. */
  private passStartedAt = Number.NEGATIVE_INFINITY;
  private lastSweepWall = Number.NEGATIVE_INFINITY;

  constructor(inner: KeyValueStore<K, Stamped<V>>, options: ExpiryOptions) {
    if (!(options.ttlMs > 0)) throw new StoreError(`Store "${inner.name}": the TTL must be a positive number of milliseconds, not ${options.ttlMs}.`);
    this.name = inner.name;
    this.inner = inner;
    this.ttlMs = options.ttlMs;
    this.now = options.now;
  }

  get(key: K): V | undefined {
    const stamped = this.inner.get(key);
    return stamped === undefined || this.expired(stamped) ? undefined : stamped.value;
  }

  put(key: K, value: V, context?: WriteContext): void {
    this.inner.put(key, { value, time: context?.timestamp ?? this.now() }, context);
  }

  insert(key: K, value: V, context?: WriteContext): void {
    this.inner.insert(key, { value, time: context?.timestamp ?? this.now() }, context);
  }

  delete(key: K, context?: WriteContext): void {
    this.inner.delete(key, context);
  }

  async *range(range?: KeyRange<K>): AsyncIterable<[K, V]> {
    for await (const [key, stamped] of this.inner.range(range)) {
      if (!this.expired(stamped)) yield [key, stamped.value];
    }
  }

  /**
   * Deletes the expired entries among the next `limit` stored ones, resuming where the last
   * sweep stopped and starting over after the last key. Returns how many it deleted.
   */
  async sweep(limit: number): Promise<number> {
    this.lastSweepWall = Date.now();
    if (this.cursor === undefined) this.passStartedAt = this.now();
    let seen = 0;
    let deleted = 0;
    let last: { key: K } | undefined;
    const now = this.now();
    const from = this.cursor;
    for await (const [key, stamped] of this.inner.range(from === undefined ? { limit: limit + 1 } : { from: from.key, limit: limit + 1 })) {
      if (from !== undefined && seen === 0 && sameKey(key, from.key)) continue;
      if (seen === limit) break;
      seen++;
      last = { key };
      // The cache may hold a newer write than the committed state being scanned.
      const current = this.inner.get(key);
      if (current !== undefined && stamped.time + this.ttlMs <= now && current.time + this.ttlMs <= now) {
        this.inner.delete(key, { timestamp: now });
        deleted++;
      }
    }
    this.cursor = seen === limit ? last : undefined;
    return deleted;
  }

  /**
   * Whether a sweep is worth its scan at `wall` (the machine's clock): at most one a second, and
   * only while a pass over the store is under way or once stream time has moved on by a
   * hundredth of the TTL (at least 1 s, at most a minute) since the last pass began; no entry
   * can have expired without stream time moving. Reads skip expired entries anyway: sweeping
   * only frees space, and scanning at every commit (every 100 ms under exactly-once) took most
   * of the commit.
   */
  sweepDue(wall: number): boolean {
    if (wall - this.lastSweepWall < 1_000) return false;
    if (this.cursor !== undefined) return true;
    return this.now() - this.passStartedAt >= Math.min(Math.max(this.ttlMs / 100, 1_000), 60_000);
  }

  private expired(stamped: Stamped<V>): boolean {
    return stamped.time + this.ttlMs <= this.now();
  }
}

function sameKey(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
