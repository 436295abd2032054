import type { BytesStore, RangeOptions, StorePosition } from './bytes-store.ts';

/** Where a store's changes go: its partition of the changelog topic. */
export interface ChangelogWriter {
  /** Sends one change (null: a deletion). Never waits. */
  send(key: Buffer, value: Buffer | null, timestamp: number): void;
}

/** A layer that logs every write to the changelog before staging it below. */
export class ChangeLoggingStore implements BytesStore {
  readonly name: string;
  private readonly inner: BytesStore;
  private readonly changelog: ChangelogWriter;
  private readonly clock: () => number;

  constructor(inner: BytesStore, changelog: ChangelogWriter, clock: () => number = Date.now) {
    this.name = inner.name;
    this.inner = inner;
    this.changelog = changelog;
    this.clock = clock;
  }

  get(key: Buffer): Buffer | undefined {
    return this.inner.get(key);
  }

  getWritten(key: Buffer): Buffer | undefined {
    return this.inner.getWritten(key);
  }

  put(key: Buffer, value: Buffer | null, timestamp?: number): void {
    this.changelog.send(key, value, timestamp ?? this.clock());
    this.inner.put(key, value);
  }

  write(position?: StorePosition): Promise<void> {
    return this.inner.write(position);
  }

  restore(entries: Array<[Buffer, Buffer | null]>, position?: StorePosition): Promise<void> {
    return this.inner.restore(entries, position);
  }

  position(): StorePosition | undefined {
    return this.inner.position();
  }

  range(options?: RangeOptions): AsyncIterable<[Buffer, Buffer]> {
    return this.inner.range(options);
  }

  /** Not logged: the changelog's own retention drops what this clears (expired windows). */
  clearRange(from: Buffer, to: Buffer): Promise<void> {
    return this.inner.clearRange(from, to);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
