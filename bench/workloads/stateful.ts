/**
 * The stateful workloads: each system counts records per key and writes each changed key's
 * latest count to its output, once per commit (the de-duplication a write-back cache gives).
 *
 * Keys are `user-<n>`. In `stateful-count` record `i` gets a pseudo-random key (a fixed hash of
 * `i`), so keys repeat irregularly, as real traffic does; in `stateful-rss` record `i` gets key
 * `i % keys`, so every key is put in state. Values are opaque bytes nobody reads.
 */

/** A 32-bit mix of `i` (the murmur3 finalizer): deterministic, well spread. */
export function mix(i: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export type KeyOrder = 'hashed' | 'sequential';

/** The key number of record `i`. */
export function keyIndex(i: number, keys: number, order: KeyOrder): number {
  return order === 'hashed' ? mix(i) % keys : i % keys;
}

export function keyName(index: number): string {
  return `user-${index}`;
}

/** The value of record `i`: `valueSize` bytes. */
export function statefulValue(i: number, valueSize: number): Buffer {
  const text = `{"id":${i},"pad":"`;
  return Buffer.from(text.padEnd(Math.max(text.length, valueSize - 2), 'x') + '"}');
}

/** The true count of every key after `records` records. */
export function trueCounts(records: number, keys: number, order: KeyOrder): Uint32Array {
  const counts = new Uint32Array(keys);
  for (let i = 0; i < records; i++) counts[keyIndex(i, keys, order)]!++;
  return counts;
}

/**
 * Checks a system's output: the last count written for each key must be its true count, and
 * every key that was counted must appear. Feed the output records in partition order.
 */
export class CountChecker {
  private readonly last: Uint32Array;
  private readonly expected: Uint32Array;
  outputs = 0;
  malformed = 0;

  constructor(expected: Uint32Array) {
    this.expected = expected;
    this.last = new Uint32Array(expected.length);
  }

  add(key: Buffer | null, value: Buffer | null): void {
    this.outputs++;
    const text = key?.toString('latin1') ?? '';
    const index = text.startsWith('user-') ? Number(text.slice(5)) : NaN;
    const count = value === null ? NaN : Number(value.toString('latin1'));
    if (!Number.isInteger(index) || index < 0 || index >= this.last.length || !Number.isInteger(count)) {
      this.malformed++;
      return;
    }
    this.last[index] = count;
  }

  /** `{ ok, keys, wrong, sum }`: keys with a count, keys whose last count is wrong, sum of last counts. */
  result(): { ok: boolean; outputs: number; keys: number; wrong: number; sum: number; malformed: number } {
    let wrong = 0;
    let keys = 0;
    let sum = 0;
    for (let k = 0; k < this.expected.length; k++) {
      if (this.expected[k]! > 0) keys++;
      if (this.last[k] !== this.expected[k]) wrong++;
      sum += this.last[k]!;
    }
    return { ok: wrong === 0 && this.malformed === 0, outputs: this.outputs, keys, wrong, sum, malformed: this.malformed };
  }
}
