import { lowerBound } from '../lower-bound.ts';
import type { KeyValueStore } from '../../../state/key-value-store.ts';
import { keyIdentity } from '../held-records.ts';
import type { ProcessorMetadata, StoreProvider } from '../processor.ts';
import type { Windowed } from '../windows/specs.ts';
import { ObservedTime } from '../windows/observed-time.ts';

/** A record of the other stream a fetch found: its timestamp and value. */
export interface Buffered<V> {
  readonly timestamp: number;
  readonly value: V;
}

/**
 * One stream's records in a stream-stream join, kept for the join window's retention: a windowed
 * store keyed by the key and the record's timestamp (a list of the values that share both), and
 * in memory, per key, the timestamps it holds, so that the records of a key in a time range are
 * found without a scan (a LevelDB scan cannot run on the per-record path). The store is preloaded
 * and the index rebuilt from it when the task starts.
 *
 * A record older than the newest written minus the retention is gone, as in Kafka Streams'
 * window store: it is neither found nor kept.
 */
export class JoinBuffer<K, V> {
  private readonly store: KeyValueStore<Windowed<K>, V[]>;
  private readonly retentionMs: number;
  /** The newest timestamp written (`written:<store>`): retention drops the store's segments by it. */
  private readonly written: ObservedTime;
  /** Per key (by identity), the timestamps held, ascending. */
  private readonly byKey = new Map<string, number[]>();
  private sweptAt = Number.NEGATIVE_INFINITY;
  private readonly sweepEveryMs: number;

  constructor(stores: StoreProvider, metadata: ProcessorMetadata, name: string, retentionMs: number, sweepEveryMs: number) {
    this.store = stores.get<Windowed<K>, V[]>(name);
    this.retentionMs = retentionMs;
    this.sweepEveryMs = sweepEveryMs;
    this.written = new ObservedTime(metadata, 'written', name);
    for (const [windowed] of stores.restored<Windowed<K>, V[]>(name)) this.index(windowed.key, windowed.window.start);
  }

  /** The earliest timestamp still kept. */
  private get liveFrom(): number {
    return this.written.now - this.retentionMs + 1;
  }

  /** The key's records with timestamps in [from, to], by timestamp, then in the order they came. */
  fetch(key: K, from: number, to: number): Array<Buffered<V>> {
    const times = this.byKey.get(keyIdentity(key));
    if (times === undefined) return [];
    const low = Math.max(from, this.liveFrom);
    const found: Array<Buffered<V>> = [];
    for (let i = lowerBound(times, low); i < times.length && times[i]! <= to; i++) {
      const timestamp = times[i]!;
      const values = this.store.get({ key, window: { start: timestamp, end: timestamp } });
      if (values !== undefined) for (const value of values) found.push({ timestamp, value });
    }
    return found;
  }

  /** Keeps a record, unless it is already older than the retention. */
  add(key: K, timestamp: number, value: V, headers: unknown): void {
    this.written.advance(timestamp);
    if (timestamp < this.liveFrom) return;
    const windowed: Windowed<K> = { key, window: { start: timestamp, end: timestamp } };
    const write = { timestamp, headers };
    if (this.index(key, timestamp)) this.store.insert(windowed, [value], write);
    else this.store.put(windowed, [...(this.store.get(windowed) ?? []), value], write);
    this.expire();
  }

  /** Adds a timestamp to the key's; true when it was not there. */
  private index(key: K, timestamp: number): boolean {
    const id = keyIdentity(key);
    let times = this.byKey.get(id);
    if (times === undefined) this.byKey.set(id, (times = []));
    const at = lowerBound(times, timestamp);
    if (times[at] === timestamp) return false;
    times.splice(at, 0, timestamp);
    return true;
  }

  /** Forgets, once the retention bound has moved a sweep interval on, every key's timestamps past it. */
  private expire(): void {
    const liveFrom = this.liveFrom;
    if (!(liveFrom - this.sweptAt >= this.sweepEveryMs)) return;
    this.sweptAt = liveFrom;
    for (const [id, times] of this.byKey) {
      const live = lowerBound(times, liveFrom);
      if (live === times.length) this.byKey.delete(id);
      else if (live > 0) times.splice(0, live);
    }
  }
}
