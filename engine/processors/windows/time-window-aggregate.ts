import type { Stamped } from '../../../state/expiring-store.ts';
import type { Aggregator } from '../aggregate.ts';
import type { Change, ProcessorSupplier } from '../processor.ts';
import { synchronous } from '../synchronous.ts';
import { ObservedTime } from './observed-time.ts';
import type { TimeWindows, Windowed } from './specs.ts';
import { windowTimestamp } from './timestamps.ts';

export interface TimeWindowAggregation<K, V, A> {
  /** The window store: `Windowed<K>` keys, stamped aggregates. */
  store: string;
  windows: TimeWindows;
  initializer: () => A;
  aggregator: Aggregator<K, V, A>;
  /** The aggregator's name in errors (`reducer` for reduce). */
  callback?: string;
}

/**
 * Aggregates each key's records per time window (tumbling or hopping), as Kafka Streams'
 * windowed aggregation does: a record updates every window it falls in that has not closed
 * (window end > observed stream time - grace); one that falls only in closed windows is late
 * (dropped, counted, and sent to the late-record topic if there is one). Records with a null key
 * are skipped. Each window's aggregate carries the largest timestamp of its records, which is
 * the timestamp of the updates sent downstream (one per window per commit, through the store's
 * cache, or one per record with caching off).
 */
export function timeWindowAggregate<K, V, A>(settings: TimeWindowAggregation<K, V, A>): ProcessorSupplier {
  const { store, windows, initializer, aggregator, callback = 'aggregator' } = settings;
  return ({ stores, next, context, restoreContext, name, metadata, late }) => {
    const aggregates = stores.get<Windowed<K>, Stamped<A>>(store);
    stores.cache<Windowed<K>, Stamped<A>>(store).setFlushListener((key, newValue, oldValue, write) => {
      restoreContext(write);
      next(key, { newValue: newValue?.value ?? null, oldValue: oldValue?.value ?? null } satisfies Change<A>);
    });
    const observed = new ObservedTime(metadata, 'observed', store);
    const written = new ObservedTime(metadata, 'written', store);
    const heldBefore = stores.windowTimeBound(store);
    return (key, value) => {
      if (key === null || key === undefined) return;
      const timestamp = windowTimestamp(name, context.timestamp);
      const closeTime = observed.advance(timestamp) - windows.graceMs;
      let updated = 0;
      for (let start = windows.firstWindowStart(timestamp); start <= timestamp; start += windows.advanceMs) {
        const end = start + windows.sizeMs;
        if (end <= closeTime) continue;
        const windowed: Windowed<K> = { key: key as K, window: { start, end } };
        // A window starting after every window the store held at start and every one written
        // since is new: no need to look for it.
        const fresh = start >= heldBefore && start > written.now;
        const current = fresh ? undefined : aggregates.get(windowed);
        const before = current === undefined ? synchronous(initializer(), name, 'initializer') : current.value;
        const time = current === undefined ? timestamp : Math.max(timestamp, current.time);
        const after = synchronous(aggregator(key as K, value as V, before, context), name, callback);
        const write = { timestamp: time, headers: context.headers };
        // A null aggregate deletes the window, as a null put does in Kafka Streams' window store.
        if (after === null || after === undefined) aggregates.delete(windowed, write);
        else if (fresh) aggregates.insert(windowed, { value: after, time }, write);
        else aggregates.put(windowed, { value: after, time }, write);
        written.advance(start);
        updated++;
      }
      if (updated === 0) late(store, `every window of timestamp ${timestamp} had closed (stream time ${observed.now}, grace ${windows.graceMs} ms)`);
    };
  };
}
