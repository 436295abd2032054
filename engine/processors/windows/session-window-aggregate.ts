import type { Aggregator } from '../aggregate.ts';
import type { Change, ProcessorSupplier } from '../processor.ts';
import { synchronous } from '../synchronous.ts';
import { ObservedTime } from './observed-time.ts';
import type { SessionWindows, WindowBounds, Windowed } from './specs.ts';
import { windowTimestamp } from './timestamps.ts';
import { WindowIndex } from './window-index.ts';

/** Combines the aggregates of two sessions a record bridges (Kafka Streams' `Merger`). */
export type Merger<K, A> = (key: K, aggregate1: A, aggregate2: A) => A;

export interface SessionAggregation<K, V, A> {
  /** The session store (preloaded): `Windowed<K>` keys, aggregates. */
  store: string;
  windows: SessionWindows;
  retentionMs: number;
  /** The store's segment interval: how often the index forgets expired sessions of every key. */
  segmentIntervalMs: number;
  initializer: () => A;
  aggregator: Aggregator<K, V, A>;
  merger: Merger<K, A>;
  callback?: string;
}

/**
 * Session aggregation as Kafka Streams does it (KStreamSessionWindowAggregate): a record joins
 * every session of its key that ends no earlier than gap before it and starts no later than gap
 * after it; those sessions merge (their aggregates combined by the merger, each sent on as a
 * deletion at its own end time) into one session spanning them and the record, sent on at its
 * end time. A record whose merged session ends before stream time - grace - gap is late. Records
 * with a null key are skipped.
 */
export function sessionWindowAggregate<K, V, A>(settings: SessionAggregation<K, V, A>): ProcessorSupplier {
  const { store, windows, retentionMs, segmentIntervalMs, initializer, aggregator, merger, callback = 'aggregator' } = settings;
  const { gapMs, graceMs } = windows;
  return ({ stores, next, context, restoreContext, name, metadata, late }) => {
    const sessions = stores.get<Windowed<K>, A>(store);
    stores.cache<Windowed<K>, A>(store).setFlushListener((key, newValue, oldValue, write) => {
      restoreContext(write);
      next(key, { newValue, oldValue } satisfies Change<A>);
    });
    const index = new WindowIndex(segmentIntervalMs);
    const observed = new ObservedTime(metadata, 'observed', store);
    const written = new ObservedTime(metadata, 'written', store);
    for (const [windowed] of stores.restored<Windowed<K>, A>(store)) {
      index.add(windowed.key, windowed.window);
      written.advance(windowed.window.end);
    }

    return (key, value) => {
      if (key === null || key === undefined) return;
      const k = key as K;
      const time = windowTimestamp(name, context.timestamp);
      const closeTime = observed.advance(time) - graceMs - gapMs;
      let aggregate = synchronous(initializer(), name, 'initializer');
      let merged: WindowBounds = { start: time, end: time };
      const bridged: Array<{ window: WindowBounds; aggregate: A }> = [];
      // As Kafka Streams' store: sessions ending before its retention (of the latest session end written) are gone.
      const liveFrom = written.now - retentionMs + 1;
      index.expire(liveFrom);
      for (const window of index.endingBetween(k, time - gapMs, Number.POSITIVE_INFINITY, liveFrom)) {
        if (window.start > time + gapMs) continue;
        const found = sessions.get({ key: k, window });
        if (found === undefined) {
          index.remove(k, window);
          continue;
        }
        bridged.push({ window, aggregate: found });
        aggregate = synchronous(merger(k, aggregate, found), name, 'merger');
        merged = { start: Math.min(merged.start, window.start), end: Math.max(merged.end, window.end) };
      }
      if (merged.end < closeTime) {
        late(store, `its session [${merged.start}, ${merged.end}] had closed (stream time ${observed.now}, gap ${gapMs} ms, grace ${graceMs} ms)`);
        return;
      }
      if (merged.start !== time || merged.end !== time) {
        for (const { window } of bridged) {
          sessions.delete({ key: k, window }, { timestamp: window.end, headers: context.headers });
          index.remove(k, window);
          written.advance(window.end);
        }
      }
      aggregate = synchronous(aggregator(k, value as V, aggregate, context), name, callback);
      if (aggregate === null || aggregate === undefined) {
        // A null aggregate deletes the session, as a null put does in Kafka Streams' session store.
        sessions.delete({ key: k, window: merged }, { timestamp: merged.end, headers: context.headers });
        index.remove(k, merged);
      } else {
        sessions.put({ key: k, window: merged }, aggregate, { timestamp: merged.end, headers: context.headers });
        index.add(k, merged);
      }
      written.advance(merged.end);
    };
  };
}
