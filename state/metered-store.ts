import type { KeyRange, KeyValueStore, WriteContext } from './key-value-store.ts';

/** Counts of a store's operations since it opened. */
export interface StoreMetrics {
  gets: number;
  puts: number;
  deletes: number;
}

/** A layer that counts operations (exported as metrics) and passes them on. */
export class MeteredStore<K, V> implements KeyValueStore<K, V> {
  readonly name: string;
  readonly metrics: StoreMetrics = { gets: 0, puts: 0, deletes: 0 };
  private readonly inner: KeyValueStore<K, V>;

  constructor(inner: KeyValueStore<K, V>) {
    this.name = inner.name;
    this.inner = inner;
  }

  get(key: K): V | undefined {
    this.metrics.gets++;
    return this.inner.get(key);
  }

  put(key: K, value: V, context?: WriteContext): void {
    this.metrics.puts++;
    this.inner.put(key, value, context);
  }

  insert(key: K, value: V, context?: WriteContext): void {
    this.metrics.puts++;
    this.inner.insert(key, value, context);
  }

  delete(key: K, context?: WriteContext): void {
    this.metrics.deletes++;
    this.inner.delete(key, context);
  }

  range(range?: KeyRange<K>): AsyncIterable<[K, V]> {
    return this.inner.range(range);
  }
}
