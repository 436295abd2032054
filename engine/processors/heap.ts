/**
 * A binary heap: `pop` returns the item that comes first by `before`. Pushes and pops take
 * O(log n), so an operator can release the best of thousands of held records per record.
 */
export class Heap<T> {
  private items: T[] = [];
  private readonly before: (a: T, b: T) => boolean;

  constructor(before: (a: T, b: T) => boolean) {
    this.before = before;
  }

  get size(): number {
    return this.items.length;
  }

  /** The item `pop` would return, left in place. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Takes every item out (in no particular order), leaving the heap empty. */
  clear(): T[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  /** Replaces the contents with `items` in O(n). */
  reset(items: T[]): void {
    this.items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftDown(start: number): void {
    const items = this.items;
    const n = items.length;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let first = i;
      if (left < n && this.before(items[left]!, items[first]!)) first = left;
      if (right < n && this.before(items[right]!, items[first]!)) first = right;
      if (first === i) return;
      [items[i], items[first]] = [items[first]!, items[i]!];
      i = first;
    }
  }
}
