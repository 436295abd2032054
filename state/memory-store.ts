import { bounds, type BytesStore, type RangeOptions, type StorePosition } from './bytes-store.ts';

/** A {@link BytesStore} in memory: for tests and for state that need not outlive the process. */
export class MemoryStore implements BytesStore {
  readonly name: string;
  private readonly data = new Map<string, Buffer>();
  private staged = new Map<string, Buffer | null>();
  private written: StorePosition | undefined;

  constructor(name: string) {
    this.name = name;
  }

  get(key: Buffer): Buffer | undefined {
    const id = key.toString('latin1');
    const staged = this.staged.get(id);
    if (staged !== undefined) return staged ?? undefined;
    return this.data.get(id);
  }

  getWritten(key: Buffer): Buffer | undefined {
    return this.data.get(key.toString('latin1'));
  }

  put(key: Buffer, value: Buffer | null): void {
    this.staged.set(key.toString('latin1'), value);
  }

  async write(position?: StorePosition): Promise<void> {
    this.apply([...this.staged].map(([k, v]) => [Buffer.from(k, 'latin1'), v]));
    this.staged = new Map();
    if (position) this.written = { ...position };
  }

  async restore(entries: Array<[Buffer, Buffer | null]>, position?: StorePosition): Promise<void> {
    this.apply(entries);
    if (position) this.written = { ...position };
  }

  position(): StorePosition | undefined {
    return this.written;
  }

  async *range(options: RangeOptions = {}): AsyncIterable<[Buffer, Buffer]> {
    const { from, to } = bounds(options);
    const keys = [...this.data.keys()]
      .map((k) => Buffer.from(k, 'latin1'))
      .filter((k) => (!from || Buffer.compare(k, from) >= 0) && (!to || Buffer.compare(k, to) < 0))
      .sort(Buffer.compare);
    if (options.reverse) keys.reverse();
    let n = 0;
    for (const key of keys) {
      if (options.limit !== undefined && n++ >= options.limit) return;
      yield [key, this.data.get(key.toString('latin1'))!];
    }
  }

  async clearRange(from: Buffer, to: Buffer): Promise<void> {
    for (const id of [...this.data.keys()]) {
      const key = Buffer.from(id, 'latin1');
      if (Buffer.compare(key, from) >= 0 && Buffer.compare(key, to) < 0) this.data.delete(id);
    }
  }

  async close(): Promise<void> {
    this.staged.clear();
  }

  private apply(entries: Array<[Buffer, Buffer | null]>): void {
    for (const [key, value] of entries) {
      if (value === null) this.data.delete(key.toString('latin1'));
      else this.data.set(key.toString('latin1'), value);
    }
  }
}
