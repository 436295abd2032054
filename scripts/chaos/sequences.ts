/**
 * What the checker compares outputs with: the input as it is in Kafka, and per stream of outputs
 * (a partition of the echo, a key's sums, ...) the sequence of values it must hold.
 */

/** The input as it is in Kafka: per partition its values in offset order, and per key its values. */
export class InputTruth {
  readonly byPartition: number[][];
  readonly byKey: number[][];
  /** value -> key index (-1: not an input value). */
  private readonly keyOfValue: Int32Array;

  constructor(partitions: number, keys: number, maxValue: number) {
    this.byPartition = Array.from({ length: partitions }, () => []);
    this.byKey = Array.from({ length: keys }, () => []);
    this.keyOfValue = new Int32Array(maxValue + 1).fill(-1);
  }

  add(partition: number, key: number, value: number): void {
    this.byPartition[partition]!.push(value);
    this.byKey[key]!.push(value);
    this.keyOfValue[value] = key;
  }

  keyOf(value: number): number {
    return Number.isInteger(value) && value >= 0 && value < this.keyOfValue.length ? this.keyOfValue[value]! : -1;
  }
}

/**
 * What one stream of outputs (a partition of the echo, a key's sums, ...) must be: a strictly
 * increasing sequence of expected values. Each observed value is classified against it.
 */
export class SequenceCheck {
  private readonly seen: Uint8Array;
  private lastIndex = -1;
  observed = 0;
  /** The value that was due when the last one was observed. */
  due: number | undefined;
  lastValue: number | undefined;
  largest: number | undefined;

  constructor(readonly expected: ArrayLike<number>) {
    this.seen = new Uint8Array(expected.length);
  }

  /**
   * `ok`: the next expected value; `duplicate`: one observed before; `unexpected`: not in the
   * sequence at all; `outOfOrder`: expected, but some before it have not been observed yet.
   */
  observe(value: number): 'ok' | 'duplicate' | 'unexpected' | 'outOfOrder' {
    this.observed++;
    this.due = this.expected[this.lastIndex + 1];
    this.lastValue = value;
    if (this.largest === undefined || value > this.largest) this.largest = value;
    const i = indexOf(this.expected, value);
    if (i < 0) return 'unexpected';
    if (this.seen[i]) return 'duplicate';
    this.seen[i] = 1;
    const inOrder = i === this.lastIndex + 1;
    this.lastIndex = i;
    return inOrder ? 'ok' : 'outOfOrder';
  }

  /** Expected values never observed. */
  missing(): number[] {
    const missing: number[] = [];
    for (let i = 0; i < this.expected.length; i++) if (!this.seen[i]) missing.push(this.expected[i]!);
    return missing;
  }
}

function indexOf(sorted: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Why an observed value broke its sequence, for an example. */
export function describe(verdict: string, value: number, check: SequenceCheck | undefined): string {
  if (!check) return 'not a key or partition of the input';
  switch (verdict) {
    case 'duplicate':
      return `seen before; ${check.due ?? 'nothing more'} was due`;
    case 'unexpected':
      return `not among the ${check.expected.length} expected values; ${check.due ?? 'nothing more'} was due`;
    case 'outOfOrder':
      return `${check.due ?? 'nothing more'} was due`;
    default:
      return verdict;
  }
}
