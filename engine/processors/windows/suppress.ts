import type { RecordHeader } from '../../kafka/records.ts';
import type { Buffered } from '../../serde/windowed.ts';
import { Heap } from '../heap.ts';
import { keyIdentity, sendingAs } from '../held-records.ts';
import type { Change, ProcessorSupplier } from '../processor.ts';
import { ObservedTime } from './observed-time.ts';
import type { Windowed } from './specs.ts';

export interface Suppression {
  /** The buffer store (preloaded): the table's windowed keys, {@link Buffered} updates. */
  store: string;
  /** The grace of the windows upstream: a window closes once observed stream time passes its end plus this. */
  graceMs: number;
  /**
   * Sliding and session windows include their end, and their aggregations still take a record
   * whose window ends exactly at stream time - grace: such a window closes only once stream time
   * is past that. (Kafka Streams evicts it at that time already and so can emit it twice.)
   */
  endInclusive: boolean;
}

/** A buffered window, in memory: the store holds its update, the heap orders it by window end. */
interface Pending {
  readonly id: string;
  readonly key: Windowed<unknown>;
  readonly end: number;
  /** The key's bytes as the buffer store writes them: windows closing together go out in this order. */
  readonly bytes: Buffer;
}

/** A windowed key as a Map key: text for string and number keys, JSON otherwise. */
function windowIdentity(windowed: Windowed<unknown>): string {
  const { key, window } = windowed;
  const text = typeof key === 'string' ? `s${key}` : typeof key === 'number' ? `n${key}` : keyIdentity(key);
  return `${text}\u0000${window.start}\u0000${window.end}`;
}

/**
 * Kafka Streams' `suppress(Suppressed.untilWindowCloses(unbounded()))`: holds the latest update
 * of each window until the window closes (the largest timestamp of the updates that reached it
 * passes the window's end plus grace), then sends that update on once, with its own timestamp
 * and headers, and forgets the window; a window whose latest update is a deletion (a merged
 * session) sends nothing. Windows closing together go out in the order of their key bytes. The
 * buffer is a store with a changelog, so a window is sent once, after a crash or a move too.
 */
export function suppressUntilWindowCloses<K, V>(settings: Suppression): ProcessorSupplier {
  const { store, graceMs, endInclusive } = settings;
  return ({ stores, next, context, restoreContext, metadata }) => {
    const buffer = stores.get<Windowed<K>, Buffered<V>>(store);
    const pending = new Map<string, Pending>();
    const order = new Heap<Pending>((a, b) => a.end < b.end || (a.end === b.end && Buffer.compare(a.bytes, b.bytes) < 0));
    /** Holds a window until it closes; false when it was held already. */
    const hold = (key: Windowed<K>): boolean => {
      const id = windowIdentity(key);
      if (pending.has(id)) return false;
      const entry: Pending = { id, key, end: key.window.end, bytes: stores.keyBytes(store, key) };
      pending.set(id, entry);
      order.push(entry);
      return true;
    };
    for (const [key] of stores.restored<Windowed<K>, Buffered<V>>(store)) hold(key);
    const observed = new ObservedTime(metadata, 'observed', store);
    const send = sendingAs(context, restoreContext);

    const evict = (closeTime: number): void => {
      for (let first = order.peek(); first !== undefined && (endInclusive ? first.end < closeTime : first.end <= closeTime); first = order.peek()) {
        order.pop();
        pending.delete(first.id);
        const key = first.key as Windowed<K>;
        const update = buffer.get(key);
        if (update === undefined) continue;
        buffer.delete(key, { timestamp: update.timestamp, headers: update.headers });
        if (update.value === null) continue;
        send({ timestamp: update.timestamp, headers: update.headers as RecordHeader[] | undefined }, () =>
          next(key, { newValue: update.value, oldValue: null } satisfies Change<V>),
        );
      }
    };

    return (key, change) => {
      if (key === null || key === undefined) return;
      const windowed = key as Windowed<K>;
      const { newValue } = change as Change<V>;
      const update: Buffered<V> = context.headers === undefined ? { value: newValue, timestamp: context.timestamp } : { value: newValue, timestamp: context.timestamp, headers: context.headers };
      // A window the suppression does not hold is not in its buffer: no need to look for it there.
      if (hold(windowed)) buffer.insert(windowed, update, { timestamp: context.timestamp, headers: context.headers });
      else buffer.put(windowed, update, { timestamp: context.timestamp, headers: context.headers });
      evict(observed.advance(context.timestamp) - graceMs);
    };
  };
}
