// The table types of the DSL, beside api.ts (which re-exports them) to keep each file short.
import type { RecordContext } from '../processors/processor.ts';
import type { Synchronous } from '../processors/synchronous.ts';
import type { Serde } from '../serde/serde.ts';
import type { Materialized, Named, OperatorOptions, TableJoinOptions, ForeignKeyJoinOptions } from './stream-options.ts';
import type { RecordFunction, Stream } from './api.ts';

/**
 * A changelog stream seen as a table: the latest value per key, as Kafka Streams' `KTable`. Comes
 * from `builder.table(topic)` or an aggregation; `toStream()` turns its updates into a stream.
 */
export interface Table<K, V> {
  readonly node: string;
  /** The store holding the table's values, if it is materialized. */
  readonly store: string | undefined;
  /** Each update as a record: the key and its new value (null when the key was deleted). */
  toStream(options?: Named): Stream<K, V>;
  /** Keeps the keys whose value `predicate` accepts (a type guard narrows the value type); a key that stops matching is deleted downstream. */
  filter<S extends V>(predicate: (key: K, value: V, context: RecordContext) => value is S, options?: OperatorOptions): Table<K, S>;
  filter(predicate: RecordFunction<K, V, boolean>, options?: OperatorOptions): Table<K, V>;
  /** Drops the keys whose value `predicate` accepts (a type guard removes that type). */
  filterNot<S extends V>(predicate: (key: K, value: V, context: RecordContext) => value is S, options?: OperatorOptions): Table<K, Exclude<V, S>>;
  filterNot(predicate: RecordFunction<K, V, boolean>, options?: OperatorOptions): Table<K, V>;
  /** Maps each value; deletions stay deletions. */
  mapValues<V2>(mapper: (value: V, key: K, context: RecordContext) => Synchronous<V2>, options?: OperatorOptions): Table<K, V2>;
  /**
   * Groups the rows by a new key for an aggregation that follows them as they change (Kafka
   * Streams' `KTable.groupBy`): `selector` gives each row's group and the value it brings there.
   * When a row changes, its old value is subtracted from its old group and its new value added
   * to its new group (users per country, as users move). Through a repartition topic; see
   * docs/joins.md.
   */
  groupBy<K2, V2>(selector: (key: K, value: V, context: RecordContext) => Synchronous<[K2, V2]>, options?: Named & { key?: Serde<K2>; value?: Serde<V2> }): GroupedTable<K2, V2>;
  /**
   * Joins this table with `other` by key (Kafka Streams' table-table join): a table of the keys
   * both have, each value joined from the two rows, updated (or deleted) as either side changes,
   * old and new values both passed on, at the later of the two rows' timestamps. Both tables'
   * topics must have equal partition counts. With `materialized`, the joined table has a store
   * (queryable, joinable with a stream). See docs/joins.md.
   */
  join<VO, R>(other: Table<K, VO>, joiner: (value: V, otherValue: VO, key: K, context: RecordContext) => Synchronous<R>, options?: TableJoinOptions<K, V, VO, R>): Table<K, R>;
  /**
   * Joins each row with the row of `other` whose key `foreignKey` gives (Kafka Streams'
   * foreign-key join: an order line with its product): the joined table is keyed like this one,
   * updated as either row changes, as a row's foreign key changes, and deleted with it; a row
   * whose foreign key is null, or whose other row is missing, has no joined row. No
   * co-partitioning needed: subscriptions and answers go through two internal topics. See
   * docs/joins.md.
   */
  join<KO, VO, R>(other: Table<KO, VO>, foreignKey: (value: V, key: K) => KO | null, joiner: (value: V, otherValue: VO, key: K, context: RecordContext) => Synchronous<R>, options?: ForeignKeyJoinOptions<K, V, KO, VO, R>): Table<K, R>;
  /** As `join`, for every key of this table: the other side is null where `other` has no row. */
  leftJoin<VO, R>(other: Table<K, VO>, joiner: (value: V, otherValue: VO | null, key: K, context: RecordContext) => Synchronous<R>, options?: TableJoinOptions<K, V, VO, R>): Table<K, R>;
  /** As the foreign-key `join`, for every row of this table: joined with null where the foreign key is null or `other` has no row for it. */
  leftJoin<KO, VO, R>(other: Table<KO, VO>, foreignKey: (value: V, key: K) => KO | null, joiner: (value: V, otherValue: VO | null, key: K, context: RecordContext) => Synchronous<R>, options?: ForeignKeyJoinOptions<K, V, KO, VO, R>): Table<K, R>;
  /** As `join`, for every key either table has: the missing side is null. */
  outerJoin<VO, R>(other: Table<K, VO>, joiner: (value: V | null, otherValue: VO | null, key: K, context: RecordContext) => Synchronous<R>, options?: TableJoinOptions<K, V, VO, R>): Table<K, R>;
}

/**
 * A table's rows grouped by a new key (Kafka Streams' `KGroupedTable`): each aggregation takes
 * an adder and a subtractor, applied as rows join and leave a group.
 */
export interface GroupedTable<K, V> {
  /** Rows per group (a JSON number); a group emptied counts 0. */
  count(materialized: Materialized<K, number>): Table<K, number>;
  /** The first value of a group is its aggregate; `adder` combines one joining, `subtractor` takes one leaving out. */
  reduce(adder: (aggregate: V, value: V, key: K) => Synchronous<V>, subtractor: (aggregate: V, value: V, key: K) => Synchronous<V>, materialized: Materialized<K, V>): Table<K, V>;
  /** A fold from `initializer`: `adder` as a row joins the group, `subtractor` as one leaves it. */
  aggregate<A>(
    initializer: () => Synchronous<A>,
    adder: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    subtractor: (key: K, value: V, aggregate: A, context: RecordContext) => Synchronous<A>,
    materialized: Materialized<K, A>,
  ): Table<K, A>;
}
