import type { RecordHeader } from '../../kafka/records.ts';
import type { Buffered } from '../../serde/windowed.ts';
import { Heap } from '../heap.ts';
import { sendingAs } from '../held-records.ts';
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

/** A buffered window, in memory; the buffer store holds the same update, for restarts. */
interface Pending<K, V> {
  readonly key: Windowed<K>;
  /**
   * The key's bytes as the buffer store writes them, as latin1 text (one character per byte, so
   * text order is byte order): the window's identity, and the order of windows closing together.
   */
  readonly id: string;
  update: Buffered<V>;
}

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Kafka Streams' `suppress(Suppressed.untilWindowCloses(unbounded()))`: holds the latest update
 * of each window until the window closes (the largest timestamp of the updates that reached it
 * passes the window's end plus grace), then sends that update on once, with its own timestamp
 * and headers, and forgets the window; a window whose latest update is a deletion (a merged
 * session) sends nothing. Windows closing together go out in the order of their key bytes. The
 * buffer is a store with a changelog, so a window is sent once, after a crash or a move too.
 *
 * Many windows end at the same time (a tumbling window per key): the held windows are grouped
 * by end, the ends kept in a heap, and a group sorted once when it closes.
 */
export function suppressUntilWindowCloses<K, V>(settings: Suppression): ProcessorSupplier {
  const { store, graceMs, endInclusive } = settings;
  return ({ stores, next, context, restoreContext, metadata }) => {
    const buffer = stores.get<Windowed<K>, Buffered<V>>(store);
    const pending = new Map<string, Pending<K, V>>();
    const closing = new Map<number, Array<Pending<K, V>>>();
    const ends = new Heap<number>((a, b) => a < b);
    /** Holds a window's latest update until the window closes; false when it was held already. */
    const hold = (key: Windowed<K>, update: Buffered<V>): boolean => {
      const id = stores.keyBytes(store, key).toString('latin1');
      const held = pending.get(id);
      if (held !== undefined) {
        held.update = update;
        return false;
      }
      const entry: Pending<K, V> = { key, id, update };
      pending.set(id, entry);
      const end = key.window.end;
      const group = closing.get(end);
      if (group !== undefined) {
        group.push(entry);
      } else {
        closing.set(end, [entry]);
        ends.push(end);
      }
      return true;
    };
    for (const [key, update] of stores.restored<Windowed<K>, Buffered<V>>(store)) hold(key, update);
    const observed = new ObservedTime(metadata, 'observed', store);
    const send = sendingAs(context, restoreContext);

    const evict = (closeTime: number): void => {
      for (let end = ends.peek(); end !== undefined && (endInclusive ? end < closeTime : end <= closeTime); end = ends.peek()) {
        ends.pop();
        const group = closing.get(end)!;
        closing.delete(end);
        group.sort(byId);
        for (const { key, id, update } of group) {
          pending.delete(id);
          buffer.delete(key, { timestamp: update.timestamp, headers: update.headers });
          if (update.value === null) continue;
          send({ timestamp: update.timestamp, headers: update.headers as RecordHeader[] | undefined }, () =>
            next(key, { newValue: update.value, oldValue: null } satisfies Change<V>),
          );
        }
      }
    };

    return (key, change) => {
      if (key === null || key === undefined) return;
      const windowed = key as Windowed<K>;
      const { newValue } = change as Change<V>;
      const update: Buffered<V> = context.headers === undefined ? { value: newValue, timestamp: context.timestamp } : { value: newValue, timestamp: context.timestamp, headers: context.headers };
      const write = { timestamp: context.timestamp, headers: context.headers };
      // A window the suppression does not hold is not in its buffer: no need to look for it there.
      if (hold(windowed, update)) buffer.insert(windowed, update, write);
      else buffer.put(windowed, update, write);
      evict(observed.advance(context.timestamp) - graceMs);
    };
  };
}
