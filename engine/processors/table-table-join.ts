import { callJoiner, shown, type OtherSide } from './join-failure.ts';
import type { JoinedRow } from '../serde/join-serdes.ts';
import { forwardingAt } from './held-records.ts';
import type { Change, ProcessorSupplier, RecordContext } from './processor.ts';

/** Joins a left row's value with a right one's; either is null where the join kind lets a side be missing. */
export type TableJoiner<K, VL, VR, R> = (left: VL | null, right: VR | null, key: K, context: RecordContext) => R;

export type TableJoinKind = 'join' | 'leftJoin' | 'outerJoin';

export interface TableTableJoin<K, VL, VR, R> {
  kind: TableJoinKind;
  joiner: TableJoiner<K, VL, VR, R>;
  /** The join's copy of both tables' rows, with the timestamp of each side's last change. */
  rows: string;
}

/**
 * Kafka Streams' table-table joins, as two processors, one per table, that share a store of both
 * tables' rows as the join has seen them change (so any table can be joined, a filtered or mapped
 * one too), with each side's last timestamp. A change of either side is joined with the other
 * side's current row, old value and new, and goes on as a change of the joined table, at the
 * later of the two rows' timestamps:
 *
 * - `join`: nothing while the other side has no row; a side deleted makes a deletion.
 * - `leftJoin`: the left table's rows, each joined with the right's row or null; a change of the
 *   right side matters only where the left has a row.
 * - `outerJoin`: every key either table has, the missing side null.
 *
 * Changes with a null key are dropped and counted.
 */
export function tableTableJoin<K, VL, VR, R>(settings: TableTableJoin<K, VL, VR, R>): { left: ProcessorSupplier; right: ProcessorSupplier } {
  const { kind, joiner, rows } = settings;
  const side = (left: boolean): ProcessorSupplier => ({ stores, next, context, name, skip, restoreContext }) => {
    const store = stores.get<K, JoinedRow<VL, VR>>(rows);
    // Whether a change of this side needs a row on the other side to mean anything, and whether it may be joined with a missing (null) value of its own.
    const needsOther = kind === 'join' || (kind === 'leftJoin' && !left);
    const ownMayBeNull = kind === 'outerJoin' || (kind === 'leftJoin' && !left);
    const otherRow: OtherSide = (about) => `the ${left ? 'right' : 'left'} table's row of key ${shown(about)}`;
    const forwardAt = forwardingAt(context, restoreContext, next);
    const join = (own: unknown, other: unknown, key: K): R | null => {
      if (own === null && !ownMayBeNull) return null;
      if (own === null && other === null) return null;
      return left ? callJoiner(name, joiner, own as VL, other as VR | null, key, context, otherRow) : callJoiner(name, joiner, other as VL | null, own as VR, key, context, otherRow);
    };
    return (key, change) => {
      if (key === null || key === undefined) {
        skip('a table join skips a change whose key is null');
        return;
      }
      const { newValue, oldValue } = change as Change<unknown>;
      const timestamp = context.timestamp;
      const row = store.get(key as K);
      const other = (left ? row?.right : row?.left) ?? null;
      // A missing row has no timestamp (Kafka Streams' UNKNOWN): the output takes the change's.
      const otherTime = other === null ? Number.NEGATIVE_INFINITY : ((left ? row?.rightTime : row?.leftTime) ?? Number.NEGATIVE_INFINITY);
      const updated: JoinedRow<VL, VR> = left
        ? { left: newValue as VL | null, leftTime: timestamp, right: row?.right ?? null, rightTime: row?.rightTime }
        : { left: row?.left ?? null, leftTime: row?.leftTime, right: newValue as VR | null, rightTime: timestamp };
      const write = { timestamp, headers: context.headers };
      if (updated.left === null && updated.right === null) store.delete(key as K, write);
      else store.put(key as K, updated, write);

      if (other === null && (needsOther || (newValue === null && oldValue === null))) return;
      const joined: Change<R> = { newValue: join(newValue, other, key as K), oldValue: join(oldValue, other, key as K) };
      forwardAt(Math.max(timestamp, otherTime), key, joined);
    };
  };
  return { left: side(true), right: side(false) };
}
