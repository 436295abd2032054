import { callJoiner, shown, type OtherSide } from '../join-failure.ts';
import type { Stamped } from '../../../state/expiring-store.ts';
import { Instruction, type CombinedKey, type Subscription, type SubscriptionResponse } from '../../serde/fk-join-serdes.ts';
import { forwardingAt } from '../held-records.ts';
import type { Change, ProcessorInit, ProcessorSupplier, RecordContext, StoreProvider } from '../processor.ts';
import { synchronous } from '../synchronous.ts';
import { SubscriptionIndex } from './subscription-index.ts';
import { sameValue, valueHash } from '../value-identity.ts';

/** Gives a left row's foreign key: the key of the right table's row it joins (null: none). */
export type ForeignKeyExtractor<K, V, KO> = (value: V, key: K) => KO | null;
/** Joins a left row's value with the right row's (null where a left join found none). */
export type ForeignKeyJoiner<K, V, VO, R> = (value: V, otherValue: VO | null, key: K, context: RecordContext) => R;

export interface ForeignKeyJoin<K, V, KO, VO, R> {
  left: boolean;
  foreignKey: ForeignKeyExtractor<K, V, KO>;
  joiner: ForeignKeyJoiner<K, V, VO, R>;
  /** The join's copy of the left table's rows (on the left table's side). */
  primaryStore: string;
  /** Subscriptions by foreign key and left key, and the join's copy of the right table's rows with their timestamps (on the right table's side). */
  subscriptionStore: string;
  foreignStore: string;
}

/**
 * Kafka Streams' foreign-key table-table join, in four processors. On the left table's side,
 * `subscribe` turns each change of a row into subscriptions to its foreign key (and the end of
 * the subscription to the old one when it changed), sent through the subscription topic to the
 * partition of the right table that holds that key. There, `subscriptionJoin` keeps or forgets
 * each subscription and answers it with the right row (or none), and `foreignJoin` answers every
 * subscription to a key whose right row changed; answers go through the response topic back to
 * the left row's partition, where `responseJoin` joins them with the left row, unless the row
 * has changed since (the answer's hash is of an older value). The instructions and which of
 * them send an answer are Kafka Streams'.
 */
export function foreignKeyJoin<K, V, KO, VO, R>(settings: ForeignKeyJoin<K, V, KO, VO, R>): Record<'subscribe' | 'subscriptionJoin' | 'foreignJoin' | 'responseJoin', ProcessorSupplier> {
  const { left, foreignKey, joiner, primaryStore, subscriptionStore, foreignStore } = settings;
  // One index per task, shared by the two processors on the right table's side.
  const indexes = new WeakMap<RecordContext, SubscriptionIndex<KO, K>>();
  const indexOf = (context: RecordContext, stores: StoreProvider): SubscriptionIndex<KO, K> => {
    let index = indexes.get(context);
    if (index === undefined) indexes.set(context, (index = new SubscriptionIndex<KO, K>(stores, subscriptionStore, foreignStore)));
    return index;
  };

  const subscribe: ProcessorSupplier = ({ stores, next, context, name, skip }) => {
    const rows = stores.get<K, V>(primaryStore);
    const extract = (value: V, key: K): KO | null => synchronous(foreignKey(value, key), name, 'foreign key extractor') ?? null;
    return (key, change) => {
      if (key === null || key === undefined) {
        skip('a foreign-key join skips a change whose key is null');
        return;
      }
      const { newValue, oldValue } = change as Change<V>;
      const write = { timestamp: context.timestamp, headers: context.headers };
      if (newValue === null) rows.delete(key as K, write);
      else rows.put(key as K, newValue, write);
      const hash = newValue === null ? null : valueHash(newValue);
      const send = (to: KO | null, instruction: Instruction) => next(to, { hash, instruction, key: key as K } satisfies Subscription<K>);
      const newKey = newValue === null ? null : extract(newValue, key as K);
      if (oldValue === null) {
        if (newValue === null) return;
        if (newKey === null && !left) skip('a foreign-key join skips a row whose foreign key is null');
        else send(newKey, left ? Instruction.PropagateNullIfNone : Instruction.PropagateOnlyIfAvailable);
        return;
      }
      const oldKey = extract(oldValue, key as K);
      if (left) {
        if (oldKey !== null && !sameValue(newKey, oldKey)) send(oldKey, Instruction.DeleteNoPropagate);
        send(newKey, Instruction.PropagateNullIfNone);
      } else if (oldKey === null && newKey === null) {
        skip('a foreign-key join skips a row whose foreign key is null');
      } else if (oldKey === null) {
        send(newKey, Instruction.PropagateOnlyIfAvailable);
      } else if (newKey === null) {
        send(oldKey, Instruction.DeleteAndPropagate);
      } else if (!sameValue(newKey, oldKey)) {
        send(oldKey, Instruction.DeleteNoPropagate);
        send(newKey, Instruction.PropagateNullIfNone);
      } else {
        send(newKey, Instruction.PropagateOnlyIfAvailable);
      }
    };
  };

  /** Answers a subscription or a change of the right row, at `timestamp`. */
  const answer = (init: ProcessorInit) => {
    const forwardAt = forwardingAt(init.context, init.restoreContext, init.next);
    return (key: K, hash: Buffer | null, value: VO | null, timestamp: number) => forwardAt(timestamp, key, { hash, value } satisfies SubscriptionResponse<VO>);
  };

  const subscriptionJoin: ProcessorSupplier = (init) => {
    const { stores, context, skip } = init;
    const subscriptions = stores.get<CombinedKey<KO, K>, Subscription<K>>(subscriptionStore);
    const foreign = stores.get<KO, Stamped<VO>>(foreignStore);
    const index = indexOf(context, stores);
    const respond = answer(init);
    return (foreignKeyValue, value) => {
      const subscription = value as Subscription<K>;
      const noKey = foreignKeyValue === null || foreignKeyValue === undefined;
      if (noKey && subscription.instruction !== Instruction.PropagateNullIfNone) {
        skip('a foreign-key join skips a subscription whose foreign key is null');
        return;
      }
      const row = noKey ? undefined : foreign.get(foreignKeyValue as KO);
      if (!noKey) {
        const combined: CombinedKey<KO, K> = { foreignKey: foreignKeyValue as KO, key: subscription.key };
        const write = { timestamp: context.timestamp, headers: context.headers };
        if (subscription.instruction === Instruction.DeleteAndPropagate || subscription.instruction === Instruction.DeleteNoPropagate) {
          subscriptions.delete(combined, write);
          index.remove(combined);
        } else {
          subscriptions.put(combined, subscription, write);
          index.add(combined);
        }
      }
      const timestamp = row === undefined ? context.timestamp : Math.max(context.timestamp, row.time);
      switch (subscription.instruction) {
        case Instruction.DeleteAndPropagate:
          respond(subscription.key, subscription.hash, null, timestamp);
          break;
        case Instruction.PropagateNullIfNone:
          respond(subscription.key, subscription.hash, row?.value ?? null, timestamp);
          break;
        case Instruction.PropagateOnlyIfAvailable:
          if (row !== undefined) respond(subscription.key, subscription.hash, row.value, timestamp);
          break;
        default:
          break;
      }
    };
  };

  const foreignJoin: ProcessorSupplier = (init) => {
    const { stores, context, skip } = init;
    const subscriptions = stores.get<CombinedKey<KO, K>, Subscription<K>>(subscriptionStore);
    const foreign = stores.get<KO, Stamped<VO>>(foreignStore);
    const index = indexOf(context, stores);
    const respond = answer(init);
    return (foreignKeyValue, change) => {
      if (foreignKeyValue === null || foreignKeyValue === undefined) {
        skip('a foreign-key join skips a change whose key is null');
        return;
      }
      const { newValue } = change as Change<VO>;
      const write = { timestamp: context.timestamp, headers: context.headers };
      if (newValue === null) foreign.delete(foreignKeyValue as KO, write);
      else foreign.put(foreignKeyValue as KO, { value: newValue, time: context.timestamp }, write);
      for (const combined of index.subscribers(foreignKeyValue as KO)) {
        const subscription = subscriptions.get(combined);
        if (subscription !== undefined) respond(combined.key, subscription.hash, newValue, context.timestamp);
      }
    };
  };

  const responseJoin: ProcessorSupplier = ({ stores, next, context, name, skip }) => {
    const rows = stores.get<K, V>(primaryStore);
    const answered: OtherSide = (about) => `the other table's row answered for key ${shown(about)}`;
    return (key, value) => {
      const response = value as SubscriptionResponse<VO>;
      const current = rows.get(key as K);
      const hash = current === undefined ? null : valueHash(current);
      const fresh = hash === null || response.hash === null ? hash === response.hash : hash.equals(response.hash);
      if (!fresh) {
        skip('a foreign-key join drops an answer to a value its row no longer has');
        return;
      }
      const result = response.value === null && (!left || current === undefined) ? null : callJoiner(name, joiner, (current ?? null) as V, response.value, key as K, context, answered);
      next(key, { newValue: result, oldValue: null } satisfies Change<R>);
    };
  };

  return { subscribe, subscriptionJoin, foreignJoin, responseJoin };
}
