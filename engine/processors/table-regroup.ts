import { forwardFlushedChanges } from './table-ops.ts';
import type { Change, ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';
import { sameValue } from './value-identity.ts';

/** Maps a table row to the group it counts in and the value it brings there. */
export type GroupSelector<K, V, K2, V2> = (key: K, value: V, context: RecordContext) => [K2, V2];

/**
 * Kafka Streams' `KTable.groupBy`: each change of a table row is sent on as its leaving the old
 * row's group (the old value, to be subtracted) and its joining the new row's group (the new
 * value, to be added), keyed by those groups, for a repartition topic. The subtraction goes
 * first; when both fall in one group they go as one change. A side whose group key or value is
 * null is left out (counted as dropped).
 */
export function tableRegroup<K, V, K2, V2>(selector: GroupSelector<K, V, K2, V2>): ProcessorSupplier {
  return ({ next, context, name, skip }) => {
    const select = (key: K, value: V): [K2, V2] | undefined => {
      const selected = synchronous(selector(key, value, context), name, 'selector');
      if (!Array.isArray(selected) || selected.length !== 2) throw new TypeError(`groupBy's selector must return [key, value], not ${JSON.stringify(selected)}`);
      const [group, mapped] = selected as [K2, V2];
      if (group === null || group === undefined || mapped === null || mapped === undefined) {
        skip(`a table row was given a null group ${group === null || group === undefined ? 'key' : 'value'}`);
        return undefined;
      }
      return [group, mapped];
    };
    return (key, change) => {
      const { newValue, oldValue } = change as Change<V>;
      const leaving = oldValue === null ? undefined : select(key as K, oldValue);
      const joining = newValue === null ? undefined : select(key as K, newValue);
      if (leaving !== undefined && joining !== undefined && sameValue(leaving[0], joining[0])) {
        next(joining[0], { newValue: joining[1], oldValue: leaving[1] } satisfies Change<V2>);
        return;
      }
      if (leaving !== undefined) next(leaving[0], { newValue: null, oldValue: leaving[1] } satisfies Change<V2>);
      if (joining !== undefined) next(joining[0], { newValue: joining[1], oldValue: null } satisfies Change<V2>);
    };
  };
}

/**
 * Kafka Streams' `KGroupedTable.aggregate`: a change's old value is subtracted from its group's
 * aggregate (when the group has one), then its new value added (starting from the initializer).
 * Downstream gets a {@link Change} per group when the store's cache flushes.
 */
export function tableAggregate<K, V, A>(
  store: string,
  initializer: () => A,
  adder: (key: K, value: V, aggregate: A, context: RecordContext) => A,
  subtractor: (key: K, value: V, aggregate: A, context: RecordContext) => A,
): ProcessorSupplier {
  return (init) => {
    const { stores, context, name } = init;
    const aggregates = stores.get<K, A>(store);
    forwardFlushedChanges<K, A>(init, store);
    return (key, change) => {
      if (key === null || key === undefined) return;
      const { newValue, oldValue } = change as Change<V>;
      const current = aggregates.get(key as K);
      let aggregate = current;
      if (oldValue !== null && aggregate !== undefined) aggregate = synchronous(subtractor(key as K, oldValue, aggregate, context), name, 'subtractor');
      // A group the subtraction emptied (null) starts again from the initializer, as in Kafka Streams.
      if (newValue !== null) aggregate = synchronous(adder(key as K, newValue, aggregate === undefined || aggregate === null ? synchronous(initializer(), name, 'initializer') : aggregate, context), name, 'adder');
      if (aggregate === undefined) return;
      const write = { timestamp: context.timestamp, headers: context.headers };
      if (aggregate === null) aggregates.delete(key as K, write);
      else aggregates.put(key as K, aggregate, write);
    };
  };
}
