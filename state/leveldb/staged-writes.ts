/**
 * The writes a {@link LevelDbStore} has staged for its next batch, readable by key until the
 * batch is written.
 *
 * They live from a cache flush until LevelDB has the batch, which spans the wait for the
 * changelog's delivery, so a `Map` of key strings and value Buffers would mostly be promoted to
 * V8's old generation and collected there (a few hundred bytes per write, at the rate records
 * change keys). Here every write is copied into one growable byte arena, indexed by an
 * open-addressing hash table in an `Int32Array`: no JavaScript object per write, and the memory
 * is reused from one batch to the next.
 *
 * An entry in the arena is `[key length: u32][value length: i32, -1 for a deletion][key][value]`.
 * Writing a key again appends a new entry and repoints its slot; the old bytes stay until `clear`.
 */
const INITIAL_BYTES = 16 * 1024;
const INITIAL_SLOTS = 256;

export class StagedWrites {
  private arena: Buffer;
  private used = 0;
  /** Arena offset of each slot's latest entry, or -1. Its length is a power of two. */
  private slots: Int32Array;
  private count = 0;

  constructor() {
    this.arena = Buffer.allocUnsafe(INITIAL_BYTES);
    this.slots = new Int32Array(INITIAL_SLOTS).fill(-1);
  }

  /** How many distinct keys are staged. */
  get size(): number {
    return this.count;
  }

  set(key: Buffer, value: Buffer | null): void {
    const valueLength = value === null ? 0 : value.length;
    const offset = this.reserve(8 + key.length + valueLength);
    const arena = this.arena;
    arena.writeUInt32LE(key.length, offset);
    arena.writeInt32LE(value === null ? -1 : valueLength, offset + 4);
    key.copy(arena, offset + 8);
    if (value !== null) value.copy(arena, offset + 8 + key.length);
    const slot = this.find(key, hash(key, 0, key.length));
    if (this.slots[slot] === -1) {
      this.count++;
      this.slots[slot] = offset;
      if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    } else {
      this.slots[slot] = offset;
    }
  }

  /** The staged value (a copy), null for a staged deletion, undefined when the key is not staged. */
  get(key: Buffer): Buffer | null | undefined {
    if (this.count === 0) return undefined;
    const offset = this.slots[this.find(key, hash(key, 0, key.length))]!;
    if (offset === -1) return undefined;
    const valueLength = this.arena.readInt32LE(offset + 4);
    if (valueLength < 0) return null;
    const start = offset + 8 + key.length;
    return Buffer.from(this.arena.subarray(start, start + valueLength));
  }

  /**
   * Forgets every staged write. The memory is kept for the next batch, but halved when this batch
   * used less than a quarter of it, so a burst (a large batch) does not pin it for good.
   */
  clear(): void {
    if (this.count === 0 && this.used === 0) return;
    if (this.arena.length > INITIAL_BYTES && this.used < this.arena.length / 4) this.arena = Buffer.allocUnsafe(this.arena.length / 2);
    if (this.slots.length > INITIAL_SLOTS && this.count < this.slots.length / 8) this.slots = new Int32Array(this.slots.length / 2);
    this.slots.fill(-1);
    this.used = 0;
    this.count = 0;
  }

  /** Room for `bytes` more at the end of the arena; returns where they start. */
  private reserve(bytes: number): number {
    const offset = this.used;
    if (offset + bytes > this.arena.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.arena.length * 2, offset + bytes));
      this.arena.copy(grown, 0, 0, offset);
      this.arena = grown;
    }
    this.used = offset + bytes;
    return offset;
  }

  /** The slot holding `key`, or the empty slot where it would go (linear probing). */
  private find(key: Buffer, h: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    const arena = this.arena;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const offset = slots[slot]!;
      if (offset === -1) return slot;
      if (arena.readUInt32LE(offset) === key.length && sameBytes(arena, offset + 8, key)) return slot;
    }
  }

  private rehash(size: number): void {
    const old = this.slots;
    const slots = (this.slots = new Int32Array(size).fill(-1));
    const mask = size - 1;
    for (let i = 0; i < old.length; i++) {
      const offset = old[i]!;
      if (offset === -1) continue;
      let slot = hash(this.arena, offset + 8, offset + 8 + this.arena.readUInt32LE(offset)) & mask;
      while (slots[slot] !== -1) slot = (slot + 1) & mask;
      slots[slot] = offset;
    }
  }
}

/** FNV-1a over `bytes[start, end)`. */
function hash(bytes: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(arena: Buffer, at: number, key: Buffer): boolean {
  for (let i = 0; i < key.length; i++) if (arena[at + i] !== key[i]) return false;
  return true;
}
