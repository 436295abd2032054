import { lowerBound } from '../lower-bound.ts';
import type { KeyValueStore } from '../../../state/key-value-store.ts';
import type { UnmatchedKey, UnmatchedValues } from '../../serde/join-serdes.ts';
import type { StoreProvider } from '../processor.ts';

/** A held record set, ready to go out joined with null. */
export interface Unmatched<K> {
  readonly held: UnmatchedKey<K>;
  readonly values: readonly unknown[];
}

/**
 * The records a left or outer stream-stream join holds because nothing joined them yet, until
 * their window closes (then they go out joined with null) or a record of the other stream joins
 * them (then they are forgotten). A store keyed by timestamp, side and key, each entry the values
 * that share all three; in memory, the entries' keys in the store's byte order, so the oldest are
 * found without a scan. The store is preloaded and the order rebuilt when the task starts.
 */
export class UnmatchedRecords<K> {
  private readonly store: KeyValueStore<UnmatchedKey<K>, UnmatchedValues<unknown, unknown>>;
  private readonly name: string;
  private readonly stores: StoreProvider;
  /** Each entry's key, by the latin1 text of its bytes (which sorts as the bytes do). */
  private readonly held = new Map<string, UnmatchedKey<K>>();
  /** The ids of `held`, sorted. */
  private order: string[] = [];

  constructor(stores: StoreProvider, name: string) {
    this.stores = stores;
    this.name = name;
    this.store = stores.get(name);
    for (const [key] of stores.restored<UnmatchedKey<K>, unknown>(name)) this.held.set(this.id(key), key);
    this.order = [...this.held.keys()].sort();
  }

  /** The smallest timestamp held, or +Infinity. */
  get minTime(): number {
    const first = this.order[0];
    return first === undefined ? Number.POSITIVE_INFINITY : this.held.get(first)!.timestamp;
  }

  get size(): number {
    return this.order.length;
  }

  /** Holds a value of one side's record. */
  hold(held: UnmatchedKey<K>, value: unknown, headers: unknown): void {
    const id = this.id(held);
    const write = { timestamp: held.timestamp, headers };
    const side = held.left ? 'left' : 'right';
    if (!this.held.has(id)) {
      this.held.set(id, held);
      this.order.splice(lowerBound(this.order, id), 0, id);
      this.store.put(held, { [side]: [value] }, write);
      return;
    }
    const current = this.store.get(held);
    this.store.put(held, { [side]: [...(current?.[side] ?? []), value] }, write);
  }

  /** Forgets the values held for this key, timestamp and side (a record of the other stream joined them). */
  release(held: UnmatchedKey<K>): void {
    const id = this.id(held);
    if (!this.held.delete(id)) return;
    this.order.splice(lowerBound(this.order, id), 1);
    this.store.delete(held, { timestamp: held.timestamp });
  }

  /**
   * Goes through the held entries in order (timestamp, then right before left, then key) and
   * passes `emit` those `closed` says are closed, forgetting each after it; it stops once it has
   * met an open entry of each side. Returns the timestamp of the last entry it looked at.
   */
  drainClosed(closed: (held: UnmatchedKey<K>) => boolean, emit: (entry: Unmatched<K>) => void, headers: unknown): number | undefined {
    let openLeft = false;
    let openRight = false;
    let last: number | undefined;
    const kept: string[] = [];
    let at = 0;
    try {
      for (; at < this.order.length; at++) {
        const id = this.order[at]!;
        const held = this.held.get(id)!;
        last = held.timestamp;
        if (openLeft && openRight) break;
        if (!closed(held)) {
          if (held.left) openLeft = true;
          else openRight = true;
          kept.push(id);
          continue;
        }
        const entry = this.store.get(held);
        this.held.delete(id);
        this.store.delete(held, { timestamp: held.timestamp, headers });
        emit({ held, values: (held.left ? entry?.left : entry?.right) ?? [] });
      }
    } finally {
      // Also when a joiner throws: the entries gone so far are out of the order, the rest stay.
      const next = this.order[at];
      const from = next !== undefined && !this.held.has(next) ? at + 1 : at;
      if (from > kept.length) this.order = kept.concat(this.order.slice(from));
    }
    return last;
  }

  private id(held: UnmatchedKey<K>): string {
    return this.stores.keyBytes(this.name, held).toString('latin1');
  }
}
