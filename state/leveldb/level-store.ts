import fs from 'node:fs';
import { ClassicLevel } from 'classic-level';
import { bounds, type BytesStore, type RangeOptions } from '../bytes-store.ts';

/** A store's LevelDB could not be opened: it is corrupt or held by another process. */
export class StoreOpenError extends Error {
  readonly corrupt: boolean;

  constructor(location: string, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`LevelDB at ${location} could not be opened: ${message}`, { cause });
    this.corrupt = /corrupt|checksum|bad (block|magic)|MANIFEST|CURRENT/i.test(message + String((cause as { cause?: unknown })?.cause ?? ''));
  }
}

type Db = ClassicLevel<Buffer, Buffer>;

/**
 * A {@link BytesStore} over one LevelDB (classic-level). Reads are `getSync` (staged writes
 * first); writes are staged and go to LevelDB as one batch at `write()`.
 */
export class LevelDbStore implements BytesStore {
  readonly name: string;
  readonly location: string;
  private readonly db: Db;
  private staged = new Map<string, [Buffer, Buffer | null]>();

  private constructor(name: string, location: string, db: Db) {
    this.name = name;
    this.location = location;
    this.db = db;
  }

  /** Opens (creating if needed) the LevelDB at `location`. Throws {@link StoreOpenError}. */
  static async open(name: string, location: string): Promise<LevelDbStore> {
    fs.mkdirSync(location, { recursive: true });
    const db: Db = new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    try {
      await db.open({ createIfMissing: true, passive: false });
    } catch (err) {
      throw new StoreOpenError(location, err);
    }
    return new LevelDbStore(name, location, db);
  }

  /** Deletes the LevelDB at `location` (the store must be closed). */
  static wipe(location: string): void {
    fs.rmSync(location, { recursive: true, force: true });
  }

  get(key: Buffer): Buffer | undefined {
    if (this.staged.size > 0) {
      const staged = this.staged.get(key.toString('latin1'));
      if (staged !== undefined) return staged[1] ?? undefined;
    }
    return this.db.getSync(key);
  }

  getWritten(key: Buffer): Buffer | undefined {
    return this.db.getSync(key);
  }

  /** About how many bytes the store takes on disk (LevelDB's estimate; recent writes may not count yet). */
  approximateSize(): Promise<number> {
    return this.db.approximateSize(Buffer.alloc(0), Buffer.alloc(256, 0xff));
  }

  put(key: Buffer, value: Buffer | null): void {
    this.staged.set(key.toString('latin1'), [key, value]);
  }

  async write(): Promise<void> {
    if (this.staged.size === 0) return;
    const staged = this.staged;
    this.staged = new Map();
    await this.db.batch(
      [...staged.values()].map(([key, value]) => (value === null ? { type: 'del' as const, key } : { type: 'put' as const, key, value })),
    );
  }

  async restore(entries: Array<[Buffer, Buffer | null]>): Promise<void> {
    if (entries.length === 0) return;
    await this.db.batch(entries.map(([key, value]) => (value === null ? { type: 'del' as const, key } : { type: 'put' as const, key, value })));
  }

  async *range(options: RangeOptions = {}): AsyncIterable<[Buffer, Buffer]> {
    const { from, to } = bounds(options);
    const iterator = this.db.iterator({
      ...(from ? { gte: from } : {}),
      ...(to ? { lt: to } : {}),
      reverse: options.reverse ?? false,
      limit: options.limit ?? -1,
    });
    try {
      for (;;) {
        const entries = await iterator.nextv(1000);
        if (entries.length === 0) return;
        for (const entry of entries) yield entry;
      }
    } finally {
      await iterator.close();
    }
  }

  async close(): Promise<void> {
    this.staged.clear();
    await this.db.close();
  }
}
