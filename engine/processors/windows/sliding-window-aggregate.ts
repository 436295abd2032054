import type { Stamped } from '../../../state/expiring-store.ts';
import { IllegalStateError } from '../../errors.ts';
import type { Aggregator } from '../aggregate.ts';
import type { Change, ProcessorSupplier } from '../processor.ts';
import { synchronous } from '../synchronous.ts';
import { ObservedTime } from './observed-time.ts';
import type { SlidingWindows, WindowBounds, Windowed } from './specs.ts';
import { windowTimestamp } from './timestamps.ts';
import { WindowIndex } from './window-index.ts';

export interface SlidingWindowAggregation<K, V, A> {
  /** The window store (preloaded): `Windowed<K>` keys, stamped aggregates. */
  store: string;
  windows: SlidingWindows;
  retentionMs: number;
  /** The store's segment interval: how often the index forgets expired windows of every key. */
  segmentIntervalMs: number;
  initializer: () => A;
  aggregator: Aggregator<K, V, A>;
  callback?: string;
}

/**
 * Sliding-window aggregation as Kafka Streams does it (KStreamSlidingWindowAggregate): a
 * record's left window ends at it, [t - d, t]; its right window starts just after it, (t, t + d],
 * and exists only while later records fall in it. A record updates every window of its key that
 * contains it, creates its own left window (from the previous record's aggregate when that is
 * within d), its right window when later records exist, and the previous record's right window
 * when that now holds something. Records in the first d milliseconds of time share the window
 * [0, d]. Null keys and values are skipped; a record whose left window has closed is late.
 */
export function slidingWindowAggregate<K, V, A>(settings: SlidingWindowAggregation<K, V, A>): ProcessorSupplier {
  const { store, windows, retentionMs, segmentIntervalMs, initializer, aggregator, callback = 'aggregator' } = settings;
  const difference = windows.differenceMs;
  return ({ stores, next, context, restoreContext, name, metadata, late }) => {
    const aggregates = stores.get<Windowed<K>, Stamped<A>>(store);
    stores.cache<Windowed<K>, Stamped<A>>(store).setFlushListener((key, newValue, oldValue, write) => {
      restoreContext(write);
      next(key, { newValue: newValue?.value ?? null, oldValue: oldValue?.value ?? null } satisfies Change<A>);
    });
    const index = new WindowIndex(segmentIntervalMs);
    const observed = new ObservedTime(metadata, 'observed', store);
    const written = new ObservedTime(metadata, 'written', store);
    for (const [windowed] of stores.restored<Windowed<K>, Stamped<A>>(store)) {
      index.add(windowed.key, windowed.window);
      written.advance(windowed.window.start);
    }
    const initial = () => synchronous(initializer(), name, 'initializer');

    /** One record's work: its key, value and timestamp, and the window close time it met. */
    class Step {
      constructor(
        readonly key: K,
        readonly value: V,
        readonly time: number,
        readonly closeTime: number,
      ) {}

      /** The key's windows starting in [from, to] that the store still holds, with their aggregates. */
      windowsStarting(from: number, to: number): Array<{ window: WindowBounds; aggregate: Stamped<A> }> {
        // As Kafka Streams' store: windows starting before its retention (of the latest window start written) are gone.
        const liveFrom = written.now - retentionMs + 1 + difference;
        index.expire(liveFrom);
        const found: Array<{ window: WindowBounds; aggregate: Stamped<A> }> = [];
        for (const window of index.endingBetween(this.key, from + difference, to + difference, liveFrom)) {
          const aggregate = aggregates.get({ key: this.key, window });
          if (aggregate === undefined) index.remove(this.key, window);
          else found.push({ window, aggregate });
        }
        return found;
      }

      /** Adds the record to the window starting at `start` (whose aggregate so far is `current`), if it has not closed. */
      update(start: number, current: Stamped<A>): void {
        if (start + difference < this.closeTime) return;
        const value = synchronous(aggregator(this.key, this.value, current.value, context), name, callback);
        const time = current.value === null || current.value === undefined ? this.time : Math.max(this.time, current.time);
        this.put(start, { value, time });
      }

      put(start: number, aggregate: Stamped<A>): void {
        const window = { start, end: start + difference };
        const write = { timestamp: aggregate.time, headers: context.headers };
        // A null aggregate deletes the window, as a null put does in Kafka Streams' window store.
        if (aggregate.value === null || aggregate.value === undefined) {
          aggregates.delete({ key: this.key, window }, write);
          index.remove(this.key, window);
          return;
        }
        aggregates.put({ key: this.key, window }, aggregate, write);
        index.add(this.key, window);
        written.advance(start);
      }

      /** The windows before this record's, newest first (Kafka Streams' reverse fetch). */
      run(): void {
        const starts = new Set<number>();
        let left: Stamped<A> | undefined;
        let right: Stamped<A> | undefined;
        let leftExists = false;
        let rightExists = false;
        let previous: number | undefined;
        const found = this.windowsStarting(Math.max(0, this.time - 2 * difference), this.time + 1).reverse();
        for (const { window, aggregate } of found) {
          starts.add(window.start);
          if (window.start === this.time + 1) {
            rightExists = true;
          } else if (window.end > this.time) {
            right ??= aggregate;
            this.update(window.start, aggregate);
          } else if (window.end === this.time) {
            leftExists = true;
            this.update(window.start, aggregate);
            // A record at this very time came before: its windows exist already.
            if (aggregate.time >= this.time) return;
            previous = aggregate.time;
          } else {
            left = aggregate;
            previous = aggregate.time;
            break;
          }
        }
        if (previous !== undefined && !starts.has(previous + 1) && previous + 1 + difference >= this.time) this.update(previous + 1, { value: initial(), time: this.time });
        if (!leftExists) {
          const fromPrevious = previous !== undefined && left !== undefined && this.time - difference <= previous;
          this.update(this.time - difference, { value: fromPrevious ? left!.value : initial(), time: this.time });
        }
        if (!rightExists && right !== undefined && right.time > this.time) this.put(this.time + 1, right);
      }

      /** A record in the first `difference` ms: its left window would start before 0, so [0, d] stands for it. */
      runEarly(): void {
        const starts = new Set<number>();
        let combined: Stamped<A> | undefined;
        let right: Stamped<A> | undefined;
        let rightExists = false;
        let previous: number | undefined;
        for (const { window, aggregate } of this.windowsStarting(0, this.time + 1)) {
          starts.add(window.start);
          if (window.start === 0) {
            combined = aggregate;
            if (aggregate.time < this.time) previous = aggregate.time;
          } else if (window.start <= this.time) {
            right = aggregate;
            this.update(window.start, aggregate);
          } else if (window.start === this.time + 1) {
            rightExists = true;
          } else {
            throw new IllegalStateError(`Sliding windows of store "${store}": a window starting at ${window.start} was found for a record at ${this.time}.`);
          }
        }
        if (right === undefined && combined !== undefined && combined.time > this.time) right = combined;
        if (!rightExists && right !== undefined && right.time > this.time) this.put(this.time + 1, right);
        if (previous !== undefined && !starts.has(previous + 1)) this.update(previous + 1, { value: initial(), time: this.time });
        this.update(0, combined ?? { value: initial(), time: this.time });
      }
    }

    return (key, value) => {
      if (key === null || key === undefined || value === null || value === undefined) return;
      const time = windowTimestamp(name, context.timestamp);
      const closeTime = observed.advance(time) - windows.graceMs;
      if (time + difference < closeTime) {
        late(store, `its window [${time - difference}, ${time + difference}] had closed (stream time ${observed.now}, grace ${windows.graceMs} ms)`);
        return;
      }
      const step = new Step(key as K, value as V, time, closeTime);
      if (time < difference) step.runEarly();
      else step.run();
    };
  };
}
