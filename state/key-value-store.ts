/** Where a write came from: carried to the changelog and to what a flush forwards. */
export interface WriteContext {
  timestamp: number;
  /** Opaque to the store (the engine keeps the record's headers here). */
  headers?: unknown;
}

export interface KeyRange<K> {
  /** Inclusive lower bound. */
  from?: K;
  /** Exclusive upper bound. */
  to?: K;
  /** Keys whose encoded bytes start with this key's encoded bytes. */
  prefix?: K;
  limit?: number;
  reverse?: boolean;
}

/**
 * The key-value store operators use. `get`, `put` and `delete` are synchronous; scans read the
 * last committed state, in the byte order of the encoded keys.
 *
 * @example
 * ```ts
 * const counts = stores.get<string, number>('event-counts');
 * counts.put(type, (counts.get(type) ?? 0) + 1, { timestamp });
 * ```
 */
export interface KeyValueStore<K, V> {
  readonly name: string;
  get(key: K): V | undefined;
  put(key: K, value: V, context?: WriteContext): void;
  /**
   * A `put` of a key the caller knows the store does not hold (a window newer than any written):
   * it skips reading storage for the key's old value, which downstream then sees as none.
   */
  insert(key: K, value: V, context?: WriteContext): void;
  delete(key: K, context?: WriteContext): void;
  range(range?: KeyRange<K>): AsyncIterable<[K, V]>;
}

/** Called once per key changed since the last flush, with its latest value and the one before. */
export type FlushListener<K, V> = (key: K, newValue: V | null, oldValue: V | null, context: WriteContext | undefined) => void;
