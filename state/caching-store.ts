import type { BytesStore } from './bytes-store.ts';
import type { Codec } from './codec.ts';
import type { FlushListener, KeyRange, KeyValueStore, WriteContext } from './key-value-store.ts';
import { StoreError } from './sluice-error.ts';

export interface CacheOptions {
  /** Off: every write goes down (and to the flush listener) at once. Default on. */
  enabled?: boolean;
  /** Clean entries kept for reads beyond this many are dropped after a flush. Default 10,000. */
  maxEntries?: number;
  /** Changed keys that make the store ask for an early commit. Default 50,000. */
  maxDirty?: number;
  /** Called (once per flush interval) when more than `maxDirty` keys have changed. */
  onPressure?: () => void;
}

/**
 * One cached key. Entries live for a commit interval or longer, so they are kept small: the
 * write context is held as two fields (not the caller's object), and a string or number key's
 * bytes are encoded again at flush rather than kept.
 */
interface Entry<K, V> {
  key: K;
  /** The encoded key, kept only for keys that are not strings or numbers (it is their id). */
  keyBytes: Buffer | undefined;
  value: V | null;
  /** The value below (as of the last flush); null when there was none. */
  flushed: V | null;
  dirty: boolean;
  /** The last write's context; `timestamp` undefined when it had none. */
  timestamp: number | undefined;
  headers: unknown;
  /** When it was last written, in the store's count of writes: flushes go in this order. */
  written: number;
}

/**
 * The write-back cache: keeps values as objects, so a hot key is read and updated without
 * touching bytes; serializes each changed key once per flush and passes it down; and tells the
 * flush listener each changed key's latest value, so downstream sees one update per key per
 * commit instead of one per record.
 */
export class CachingStore<K, V> implements KeyValueStore<K, V> {
  readonly name: string;
  private readonly inner: BytesStore;
  private readonly keys: Codec<K>;
  private readonly values: Codec<V>;
  private readonly topic: string;
  private enabled: boolean;
  private readonly maxEntries: number;
  private readonly maxDirty: number;
  private readonly onPressure: (() => void) | undefined;
  private readonly entries = new Map<unknown, Entry<K, V>>();
  private dirty: Array<Entry<K, V>> = [];
  private listener: FlushListener<K, V> | undefined;
  private pressured = false;
  /** Writes so far, to order the dirty keys by their last write. */
  private writes = 0;
  /** A dirty key was written again since the last flush: the dirty list is no longer in last-write order. */
  private rewritten = false;

  /** `topic` is passed to the codecs (the changelog topic), as serdes expect one. */
  constructor(inner: BytesStore, keys: Codec<K>, values: Codec<V>, topic: string, options: CacheOptions = {}) {
    this.name = inner.name;
    this.inner = inner;
    this.keys = keys;
    this.values = values;
    this.topic = topic;
    this.enabled = options.enabled ?? true;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxDirty = options.maxDirty ?? 50_000;
    this.onPressure = options.onPressure;
  }

  /**
   * Off: every write is passed down at once, inside the call that made it, so a failure to
   * serialize or log it is that call's; on again, writes are kept until the next flush. Turn
   * off only with nothing dirty (a freshly opened store).
   */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
  }

  setFlushListener(listener: FlushListener<K, V> | undefined): void {
    this.listener = listener;
  }

  get dirtyCount(): number {
    return this.dirty.length;
  }

  get(key: K): V | undefined {
    const entry = this.entry(key);
    return entry.value ?? undefined;
  }

  put(key: K, value: V, context?: WriteContext): void {
    this.write(key, value, context);
  }

  insert(key: K, value: V, context?: WriteContext): void {
    this.write(key, value, context, true);
  }

  delete(key: K, context?: WriteContext): void {
    this.write(key, null, context);
  }

  /**
   * Passes every changed key down (and to the listener), in the order of their last writes, as
   * Kafka Streams' cache does: what the listener forwards then comes in the order it happened
   * (a suppression closing windows by the timestamps it sees must see a window's last update
   * before a later one's). Synchronous.
   */
  flush(): void {
    const dirty = this.dirty;
    if (this.rewritten) dirty.sort((a, b) => a.written - b.written);
    this.rewritten = false;
    this.dirty = [];
    this.pressured = false;
    for (const entry of dirty) this.flushEntry(entry);
    if (this.entries.size > this.maxEntries) this.evict();
  }

  async *range(range: KeyRange<K> = {}): AsyncIterable<[K, V]> {
    const encode = (key: K | undefined) => (key === undefined ? undefined : (this.keys.serialize(key, this.topic) ?? undefined));
    for await (const [key, value] of this.inner.range({
      from: encode(range.from),
      to: encode(range.to),
      prefix: encode(range.prefix),
      limit: range.limit,
      reverse: range.reverse,
    })) {
      yield [this.keys.deserialize(key, this.topic), this.values.deserialize(value, this.topic)];
    }
  }

  private write(key: K, value: V | null, context: WriteContext | undefined, absent = false): void {
    const entry = this.entry(key, absent);
    entry.value = value;
    entry.timestamp = context?.timestamp;
    entry.headers = context?.headers;
    entry.written = ++this.writes;
    if (!this.enabled) {
      this.flushEntry(entry);
      return;
    }
    if (entry.dirty) {
      this.rewritten = true;
    } else {
      entry.dirty = true;
      this.dirty.push(entry);
      if (this.dirty.length > this.maxDirty && !this.pressured) {
        this.pressured = true;
        this.onPressure?.();
      }
    }
  }

  /** The key's entry, read from storage when not cached, unless the caller knows it is `absent` there. */
  private entry(key: K, absent = false): Entry<K, V> {
    let id: unknown;
    let keyBytes: Buffer | undefined;
    if (typeof key === 'string' || typeof key === 'number') {
      id = key;
    } else {
      id = this.keys.identity?.(key);
      if (id === undefined) {
        keyBytes = this.encodeKey(key);
        id = keyBytes.toString('latin1');
      }
    }
    let entry = this.entries.get(id);
    if (entry === undefined) {
      // A key told apart by its identity keeps the bytes it is looked up with, for its flush.
      if (keyBytes === undefined && typeof key !== 'string' && typeof key !== 'number') keyBytes = this.encodeKey(key);
      const stored = absent ? undefined : this.inner.get(keyBytes ?? this.encodeKey(key));
      const value = stored === undefined ? null : this.values.deserialize(stored, this.topic);
      entry = { key, keyBytes, value, flushed: value, dirty: false, timestamp: undefined, headers: undefined, written: 0 };
      this.entries.set(id, entry);
    }
    return entry;
  }

  private flushEntry(entry: Entry<K, V>): void {
    entry.dirty = false;
    // Written and deleted again since the last flush, or deleted without ever existing: nothing
    // changed below, so nothing goes to the store, its changelog or downstream. Operators that
    // hold records briefly (prioritize, batch) put and delete most keys within one commit.
    if (entry.value === null && entry.flushed === null) return;
    try {
      const bytes = entry.value === null ? null : this.values.serialize(entry.value, this.topic);
      this.inner.put(entry.keyBytes ?? this.encodeKey(entry.key), bytes, entry.timestamp);
    } catch (err) {
      // Not written: the key goes back to what is below, as if the write had not happened.
      entry.value = entry.flushed;
      throw err;
    }
    const old = entry.flushed;
    entry.flushed = entry.value;
    if (this.listener !== undefined) {
      const context = entry.timestamp === undefined ? undefined : { timestamp: entry.timestamp, headers: entry.headers };
      this.listener(entry.key, entry.value, old, context);
    }
  }

  private encodeKey(key: K): Buffer {
    const bytes = this.keys.serialize(key, this.topic);
    if (bytes === null) throw new StoreError(`Store "${this.name}" cannot hold a key that its key serde writes as null (a null or undefined key); give every record a key before a stateful operator.`);
    return bytes;
  }

  /** Drops the oldest clean entries; changed ones stay until they are flushed. */
  private evict(): void {
    const target = Math.floor(this.maxEntries * 0.9);
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= target) return;
      if (!entry.dirty) this.entries.delete(id);
    }
  }
}
