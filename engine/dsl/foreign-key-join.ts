import { TopologyError } from '../errors.ts';
import { foreignKeyJoin, type ForeignKeyExtractor, type ForeignKeyJoiner } from '../processors/fk-join/foreign-key-join.ts';
import { combinedKeySerde, responseSerde, subscriptionSerde } from '../serde/fk-join-serdes.ts';
import type { Serde } from '../serde/serde.ts';
import { stampedSerde } from '../serde/windowed.ts';
import type { Table } from './api.ts';
import { requireFunction } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import { JOIN_READ_CACHE } from './graph.ts';
import type { ForeignKeyJoinOptions } from './stream-options.ts';
import { materializeJoined, type TableSide } from './table-joins.ts';

/**
 * Records a foreign-key join of two tables and returns the joined table, keyed like the left
 * one. The left table's side (its sub-topology) subscribes each row to its foreign key through
 * `<application.id>-<name>-subscription-registration-repartition`, sized like the right table's
 * topic; the right table's side answers through `<name>-subscription-response-repartition`,
 * sized like the left's. The joined table always has a store (`materialized`, or
 * `<name>-store`), so that downstream gets old values with new ones.
 */
export function joinOnForeignKey<K, V, KO, VO, R>(
  dsl: DslContext,
  left: TableSide<K, V>,
  right: TableSide<KO, VO> | undefined,
  foreignKey: ForeignKeyExtractor<K, V, KO>,
  joiner: ForeignKeyJoiner<K, V, VO, R>,
  isLeft: boolean,
  options: ForeignKeyJoinOptions<K, V, KO, VO, R>,
): Table<K, R> {
  const { graph } = dsl;
  const base = graph.nameFor(isLeft ? 'KTABLE-FK-LEFTJOIN' : 'KTABLE-FK-JOIN', options.name);
  requireFunction(base, 'foreign key extractor', foreignKey);
  requireFunction(base, 'joiner', joiner);
  if (right === undefined) throw new TopologyError(base, `${isLeft ? 'leftJoin' : 'join'} on a foreign key takes another table of this builder (builder.table(...), an aggregation or a join).`);
  const keySerde = (options.key ?? left.serdes.key) as Serde<unknown> | undefined;
  const valueSerde = (options.value ?? left.serdes.value) as Serde<unknown> | undefined;
  const foreignKeySerde = (options.foreignKey ?? right.serdes.key) as Serde<unknown> | undefined;
  const otherValueSerde = (options.otherValue ?? right.serdes.value) as Serde<unknown> | undefined;
  const store = (suffix: string, key: Serde<unknown> | undefined, value: Serde<unknown> | undefined, preload = false) =>
    graph.addStore({ name: `${base}-${suffix}-store`, keySerde: key, valueSerde: value, partitionedByKey: !preload, preload, readCache: JOIN_READ_CACHE }, base).name;
  const primaryStore = store('primary', keySerde, valueSerde);
  const subscriptionStore = store('subscription', combinedKeySerde(foreignKeySerde, keySerde) as Serde<unknown>, subscriptionSerde(keySerde) as Serde<unknown>, true);
  const foreignStore = store('foreign', foreignKeySerde, stampedSerde(otherValueSerde) as Serde<unknown>);
  const processors = foreignKeyJoin<K, V, KO, VO, R>({ left: isLeft, foreignKey, joiner, primaryStore, subscriptionStore, foreignStore });
  const operator = `${isLeft ? 'leftJoin' : 'join'} on a foreign key`;
  const add = (suffix: string, parents: string[], supplier: keyof typeof processors, stores: string[]) => {
    const name = graph.nameFor('KTABLE-FK-JOIN', `${base}-${suffix}`);
    graph.add({ kind: 'processor', name, operator: `${operator} (${suffix})`, parents, supplier: processors[supplier], onError: options.onError, stores, copartitioned: true });
    return name;
  };
  const repartition = (suffix: string, parents: string[], key: Serde<unknown> | undefined, value: Serde<unknown>) => {
    const name = graph.nameFor('KTABLE-FK-REPARTITION', `${base}-${suffix}`);
    graph.add({ kind: 'repartition', name, parents, topic: `${base}-${suffix}`, keySerde: key, valueSerde: value });
    return name;
  };
  const subscribe = add('subscribe', [left.node], 'subscribe', [primaryStore]);
  const registration = repartition('subscription-registration', [subscribe], foreignKeySerde, subscriptionSerde(keySerde) as Serde<unknown>);
  const answers = [
    add('subscription-join', [registration], 'subscriptionJoin', [subscriptionStore, foreignStore]),
    add('foreign-join', [right.node], 'foreignJoin', [subscriptionStore, foreignStore]),
  ];
  const response = repartition('subscription-response', answers, keySerde, responseSerde(otherValueSerde) as Serde<unknown>);
  const joined = add('response-join', [response], 'responseJoin', [primaryStore]);

  return materializeJoined<K, R>(dsl, base, joined, options.materialized ?? { name: `${base}-store` }, keySerde as Serde<K> | undefined);
}
