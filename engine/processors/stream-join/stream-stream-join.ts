import { forwardingAt } from '../held-records.ts';
import { callJoiner, shown, type OtherSide } from '../join-failure.ts';
import { segmentInterval } from '../../../state/window/windowed-keys.ts';
import type { ProcessorInit, ProcessorSupplier, RecordContext } from '../processor.ts';
import type { JoinWindows } from '../windows/join-windows.ts';
import { ObservedTime } from '../windows/observed-time.ts';
import { windowTimestamp } from '../windows/timestamps.ts';
import { JoinBuffer } from './join-buffer.ts';
import { UnmatchedRecords, type Unmatched } from './unmatched-records.ts';

/** Joins a left record's value with a right one's; either is null where an outer join found none. */
export type StreamJoiner<K, VL, VR, R> = (left: VL | null, right: VR | null, key: K, context: RecordContext) => R;

export interface StreamStreamJoin<K, VL, VR, R> {
  windows: JoinWindows;
  joiner: StreamJoiner<K, VL, VR, R>;
  /** Each stream's records, as a windowed store. */
  leftStore: string;
  rightStore: string;
  /** The records a left or outer join holds until their window closes; absent for an inner join. */
  unmatchedStore?: string;
  /** Which streams' unmatched records go out joined with null: the left's (left and outer joins), the right's (outer joins). */
  outerLeft: boolean;
  outerRight: boolean;
}

/** What the two sides of one join share in a task: both streams' records, the held records and the join's stream time. */
interface SharedState<K> {
  buffers: { left: JoinBuffer<K, unknown>; right: JoinBuffer<K, unknown> };
  unmatched: UnmatchedRecords<K> | undefined;
  /** The largest timestamp either stream brought (`observed:<unmatched store>`). */
  time: ObservedTime | undefined;
  /** At most the smallest timestamp held: no held record's window can have closed before this plus the window. */
  minTime: number;
}

/**
 * Kafka Streams' stream-stream join (since 3.1), as two processors, one per stream, that share
 * each task's state. A record joins every record of the other stream with the same key whose
 * timestamp lies in its window ([t - before, t + after] for a left record, the mirror for a right
 * one), each output at the later of the two timestamps; then it is kept for the records to come.
 * A left (or outer) join holds a record nothing joined until its window has closed (grace
 * included), then sends it joined with null, unless a record of the other stream joined it
 * meanwhile; one that arrives after its window could still be met goes out at once. Held
 * records go out, oldest first, when a record brings the join's stream time forward. Records with
 * a null value, and with a null key in an inner join (or on the inner side of a left join), are
 * dropped and counted; a null-keyed record of an outer side goes out at once joined with null
 * (KIP-962).
 */
export function streamStreamJoin<K, VL, VR, R>(settings: StreamStreamJoin<K, VL, VR, R>): { left: ProcessorSupplier; right: ProcessorSupplier } {
  const { windows, joiner } = settings;
  const shared = new WeakMap<RecordContext, SharedState<K>>();
  const sweepEveryMs = segmentInterval(windows.retentionMs);
  const stateOf = ({ context, stores, metadata }: ProcessorInit): SharedState<K> => {
    let state = shared.get(context);
    if (state === undefined) {
      const unmatched = settings.unmatchedStore === undefined ? undefined : new UnmatchedRecords<K>(stores, settings.unmatchedStore);
      state = {
        buffers: {
          left: new JoinBuffer<K, unknown>(stores, metadata, settings.leftStore, windows.retentionMs, sweepEveryMs),
          right: new JoinBuffer<K, unknown>(stores, metadata, settings.rightStore, windows.retentionMs, sweepEveryMs),
        },
        unmatched,
        time: settings.unmatchedStore === undefined ? undefined : new ObservedTime(metadata, 'observed', settings.unmatchedStore),
        minTime: unmatched?.minTime ?? Number.POSITIVE_INFINITY,
      };
      shared.set(context, state);
    }
    return state;
  };

  const side = (left: boolean): ProcessorSupplier => (init) => {
    const { context, next, name, skip, restoreContext } = init;
    const state = stateOf(init);
    const own = left ? state.buffers.left : state.buffers.right;
    const other = left ? state.buffers.right : state.buffers.left;
    const { unmatched, time } = state;
    // This stream's side of the window: how far back and forward the other stream's records may lie.
    const before = left ? windows.beforeMs : windows.afterMs;
    const after = left ? windows.afterMs : windows.beforeMs;
    const outer = left ? settings.outerLeft : settings.outerRight;
    const otherSide = left ? 'right' : 'left';
    const otherRecord: OtherSide = (about, at) => (at === undefined ? `no ${otherSide} record (key ${shown(about)})` : `the ${otherSide} record of key ${shown(about)} at ${at}`);
    const heldUntilClosed = (side: string): OtherSide => (about, at) => `nothing, for the ${side} record of key ${shown(about)} at ${at} held until its window closed`;
    const [heldLeft, heldRight] = [heldUntilClosed('left'), heldUntilClosed('right')];
    const join = (value: unknown, otherValue: unknown, key: unknown, otherTime?: number): unknown =>
      left
        ? callJoiner(name, joiner, value as VL, otherValue as VR | null, key as K, context, otherRecord, key, otherTime)
        : callJoiner(name, joiner, otherValue as VL | null, value as VR, key as K, context, otherRecord, key, otherTime);
    const forwardAt = forwardingAt(context, restoreContext, next);
    // A held record's window has closed once stream time is past its end plus the grace; a left record's window ends `after` it, a right one's `before` it.
    const closed = (held: { timestamp: number; left: boolean }) => held.timestamp + (held.left ? windows.afterMs : windows.beforeMs) + windows.graceMs < time!.now;
    const emitUnmatched = ({ held, values }: Unmatched<K>) => {
      for (const value of values) {
        const joined = held.left
          ? callJoiner(name, joiner, value as VL, null, held.key, context, heldLeft, held.key, held.timestamp)
          : callJoiner(name, joiner, null, value as VR, held.key, context, heldRight, held.key, held.timestamp);
        forwardAt(held.timestamp, held.key, joined);
      }
    };

    return (key, value) => {
      const timestamp = windowTimestamp(name, context.timestamp);
      time?.advance(timestamp);
      const noKey = key === null || key === undefined;
      if (outer && noKey && value !== null && value !== undefined) {
        next(key, join(value, null, key));
        return;
      }
      if (noKey || value === null || value === undefined) {
        skip(`a join skips a record whose ${noKey ? 'key' : 'value'} is null`);
        return;
      }
      if (unmatched !== undefined && timestamp === time!.now && state.minTime + after + windows.graceMs < time!.now) {
        const last = unmatched.drainClosed(closed, emitUnmatched, context.headers);
        state.minTime = last ?? Number.POSITIVE_INFINITY;
      }
      const from = Math.max(0, timestamp - before);
      const to = Math.max(0, timestamp + after);
      const matches = other.fetch(key as K, from, to);
      for (const match of matches) {
        if (unmatched !== undefined && unmatched.size > 0) unmatched.release({ key: key as K, timestamp: match.timestamp, left: !left });
        forwardAt(Math.max(timestamp, match.timestamp), key, join(value, match.value, key, match.timestamp));
      }
      if (outer && matches.length === 0) {
        if (unmatched === undefined || to < time!.now) next(key, join(value, null, key));
        else {
          state.minTime = Math.min(state.minTime, timestamp);
          unmatched.hold({ key: key as K, timestamp, left }, value, context.headers);
        }
      }
      own.add(key as K, timestamp, value, context.headers);
    };
  };
  return { left: side(true), right: side(false) };
}
