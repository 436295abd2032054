import fs from 'node:fs';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { bounds, type BytesStore, type RangeOptions, type StorePosition } from '../bytes-store.ts';
import { StagedWrites } from './staged-writes.ts';
import { isCorruption, StoreCorruptedError, StoreOpenError } from './store-errors.ts';

export { StoreCorruptedError, StoreOpenError } from './store-errors.ts';

/**
 * The key under which a store keeps its changelog position, beside the data and written in the
 * same batches. Keys of the engine's string and JSON serdes are UTF-8 and never start with 0xff;
 * a store whose keys are raw bytes must not use exactly this key. Scans never return it.
 */
export const POSITION_KEY = Buffer.concat([Buffer.alloc(8, 0xff), Buffer.from('sluice.changelog-position', 'latin1')]);

type Db = ClassicLevel<Buffer, Buffer>;

/**
 * LevelDB's memory per store. An instance opens one LevelDB per store and task, so these add
 * up, and classic-level's defaults are generous: a 4 MB write buffer (a full one and the next
 * can both be in memory while the first is flushed) and an 8 MB block cache, which fills up over
 * time even when every key is new (the bloom filter's false positives read blocks); six stores
 * took about 70 MB beyond their data after 5M new keys. Sluice writes once per commit, in a
 * batch, and keeps hot keys in the write-back cache in front of LevelDB, so smaller ones cost
 * nothing measurable: `stateful-count` (100,000 keys) ran at the same rate with a 2 MB cache,
 * and 5M new keys over six stores at the same rate with a 2 MB write buffer, 10 MB smaller.
 */
const OPEN_OPTIONS = { writeBufferSize: 2 * 1024 * 1024, cacheSize: 2 * 1024 * 1024 } as const;
type Batch = ReturnType<Db['batch']>;

/**
 * A {@link BytesStore} over one LevelDB (classic-level). Reads are `getSync` (staged writes
 * first); writes are staged and go to LevelDB as one batch at `write()`.
 *
 * A staged write is copied at once into a native LevelDB batch and, for reads, into
 * {@link StagedWrites}: no JavaScript object per write outlives the call, where operation
 * objects, key strings and value Buffers kept until the batch is written (after the changelog's
 * delivery) would be promoted to V8's old generation and collected there.
 */
export class LevelDbStore implements BytesStore {
  readonly name: string;
  readonly location: string;
  private readonly db: Db;
  /** The staged writes, for reads; the same writes are in `batch`. */
  private staged = new StagedWrites();
  private batch: Batch | undefined;
  /** What the batch being written holds, readable until LevelDB has it. */
  private writing = new StagedWrites();
  private writingBatch: Promise<void> | undefined;
  /** True when the store had no LevelDB before this open (a new store, or its files were lost). */
  readonly created: boolean;

  private constructor(name: string, location: string, db: Db, created: boolean) {
    this.name = name;
    this.location = location;
    this.db = db;
    this.created = created;
  }

  /** Opens (creating if needed) the LevelDB at `location`. Throws {@link StoreOpenError}. */
  static async open(name: string, location: string): Promise<LevelDbStore> {
    const created = !fs.existsSync(path.join(location, 'CURRENT'));
    fs.mkdirSync(location, { recursive: true });
    const db: Db = new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer', ...OPEN_OPTIONS });
    try {
      await db.open({ createIfMissing: true, passive: false });
    } catch (err) {
      throw new StoreOpenError(location, err);
    }
    return new LevelDbStore(name, location, db, created);
  }

  /** Deletes the LevelDB at `location` (the store must be closed). */
  static wipe(location: string): void {
    fs.rmSync(location, { recursive: true, force: true });
  }

  get(key: Buffer): Buffer | undefined {
    if (this.staged.size > 0 || this.writing.size > 0) {
      let staged = this.staged.get(key);
      if (staged === undefined) staged = this.writing.get(key);
      if (staged !== undefined) return staged ?? undefined;
    }
    return this.read(key);
  }

  getWritten(key: Buffer): Buffer | undefined {
    if (isPositionKey(key)) return undefined;
    return this.read(key);
  }

  /** The changelog position last written with the data. Throws {@link StoreCorruptedError} if it cannot be read. */
  position(): StorePosition | undefined {
    const bytes = this.read(POSITION_KEY);
    if (bytes === undefined) return undefined;
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as Partial<StorePosition>;
      if (typeof parsed.topic === 'string' && Number.isInteger(parsed.partition) && Number.isInteger(parsed.offset)) {
        return { topic: parsed.topic, partition: parsed.partition!, offset: parsed.offset! };
      }
    } catch {
      // falls through: an unreadable position is damage
    }
    throw new StoreCorruptedError(this.name, this.location, new Error('its changelog position is unreadable'));
  }

  private read(key: Buffer): Buffer | undefined {
    try {
      return this.db.getSync(key);
    } catch (err) {
      throw this.failure(err);
    }
  }

  /** A LevelDB error as the store's: corruption becomes a {@link StoreCorruptedError}. */
  private failure(err: unknown): unknown {
    return isCorruption(err) ? new StoreCorruptedError(this.name, this.location, err) : err;
  }

  /** About how many bytes the store takes on disk (LevelDB's estimate; recent writes may not count yet). */
  approximateSize(): Promise<number> {
    return this.db.approximateSize(Buffer.alloc(0), Buffer.alloc(256, 0xff));
  }

  put(key: Buffer, value: Buffer | null): void {
    // A key staged twice is in the batch twice; LevelDB applies a batch in order, so the last wins.
    const batch = (this.batch ??= this.db.batch());
    if (value === null) batch.del(key);
    else batch.put(key, value);
    this.staged.set(key, value);
  }

  async write(position?: StorePosition): Promise<void> {
    // One batch at a time, in order.
    while (this.writingBatch !== undefined) await this.writingBatch.catch(() => undefined);
    if (position !== undefined) (this.batch ??= this.db.batch()).put(POSITION_KEY, encodePosition(position));
    const batch = this.batch;
    if (batch === undefined) return;
    this.batch = undefined;
    // Staged values stay readable while LevelDB takes the batch; writes staged meanwhile go to the other set.
    const writing = this.staged;
    this.staged = this.writing;
    this.writing = writing;
    this.writingBatch = batch.write();
    try {
      await this.writingBatch;
    } catch (err) {
      throw this.failure(err);
    } finally {
      this.writingBatch = undefined;
      writing.clear();
      // Stage into the same set again when nothing was staged meanwhile (the usual case): only
      // one of the two then grows to the size of a batch.
      if (this.staged.size === 0) {
        this.writing = this.staged;
        this.staged = writing;
      }
    }
  }

  /** Copies the entries into a native batch at once (the caller's arrays are free as it returns) and writes it. */
  restore(entries: Array<[Buffer, Buffer | null]>, position?: StorePosition): Promise<void> {
    if (entries.length === 0 && position === undefined) return Promise.resolve();
    const batch = this.db.batch();
    for (let i = 0; i < entries.length; i++) {
      const [key, value] = entries[i]!;
      if (value === null) batch.del(key);
      else batch.put(key, value);
    }
    if (position !== undefined) batch.put(POSITION_KEY, encodePosition(position));
    return batch.write().catch((err: unknown) => {
      throw this.failure(err);
    });
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
        let entries: Array<[Buffer, Buffer]>;
        try {
          entries = await iterator.nextv(1000);
        } catch (err) {
          throw this.failure(err);
        }
        if (entries.length === 0) return;
        for (const entry of entries) if (!isPositionKey(entry[0])) yield entry;
      }
    } finally {
      await iterator.close();
    }
  }

  async clearRange(from: Buffer, to: Buffer): Promise<void> {
    // The position key sorts after every segment (0xff…), so a range below it never holds it.
    try {
      await this.db.clear({ gte: from, lt: to });
    } catch (err) {
      throw this.failure(err);
    }
  }

  async close(): Promise<void> {
    // Staged writes are dropped (a task closes without what it has not committed).
    this.staged.clear();
    this.writing.clear();
    const batch = this.batch;
    this.batch = undefined;
    await batch?.close();
    await this.db.close();
  }
}

function isPositionKey(key: Buffer): boolean {
  return key.length === POSITION_KEY.length && key[0] === 0xff && key.equals(POSITION_KEY);
}

function encodePosition(position: StorePosition): Buffer {
  return Buffer.from(JSON.stringify({ topic: position.topic, partition: position.partition, offset: position.offset }), 'utf8');
}
