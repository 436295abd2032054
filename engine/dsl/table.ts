import { tableFilter, tableMapValues, toStream } from '../processors/table-ops.ts';
import type { ProcessorSupplier, RecordContext } from '../processors/processor.ts';
import type { Synchronous } from '../processors/synchronous.ts';
import type { GroupedTable, Stream, Table } from './api.ts';
import { GraphGroupedTable } from './grouped-table.ts';
import type { GroupSelector } from '../processors/table-regroup.ts';
import type { Serde } from '../serde/serde.ts';
import { requireFunction } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import { guardOperators } from './operator-guard.ts';
import type { ForeignKeyJoinOptions, KnownSerdes, Named, OperatorOptions, TableJoinOptions } from './stream-options.ts';
import { joinTables, type TableSide } from './table-joins.ts';
import { joinOnForeignKey } from './foreign-key-join.ts';
import type { ForeignKeyExtractor, ForeignKeyJoiner } from '../processors/fk-join/foreign-key-join.ts';
import { TopologyError } from '../errors.ts';
import type { TableJoiner, TableJoinKind } from '../processors/table-table-join.ts';

/** A user's callback, its type checked by the overloads in api.ts. */
type Callback = (...args: never[]) => unknown;

export const TABLE_OPERATORS = ['toStream', 'filter', 'filterNot', 'mapValues', 'groupBy', 'join', 'leftJoin', 'outerJoin'] as const;

/** The {@link Table} the DSL hands out: its operators record nodes into the logical graph. */
export class GraphTable<K, V> implements Table<K, V> {
  readonly node: string;
  readonly store: string | undefined;
  private readonly dsl: DslContext;
  private readonly serdes: KnownSerdes<K, V>;

  /** @internal Tables come from `StreamsBuilder.table` and from aggregations. */
  constructor(dsl: DslContext, node: string, serdes: KnownSerdes<K, V>, store?: string) {
    this.dsl = dsl;
    this.node = node;
    this.serdes = serdes;
    this.store = store;
    return guardOperators(this, 'table', node, TABLE_OPERATORS);
  }

  toStream(options?: Named): Stream<K, V> {
    return this.dsl.stream<K, V>(this.addOperator('KTABLE-TOSTREAM', 'toStream', toStream, options, undefined), this.serdes);
  }

  filter<S extends V>(predicate: (key: K, value: V, context: RecordContext) => boolean, options?: OperatorOptions): Table<K, S> {
    return this.dsl.table<K, S>(this.addOperator('KTABLE-FILTER', 'filter', tableFilter(predicate), options, ['predicate', predicate]), this.serdes as KnownSerdes<K, S>);
  }

  filterNot<S extends V>(predicate: (key: K, value: V, context: RecordContext) => boolean, options?: OperatorOptions): Table<K, Exclude<V, S>> {
    return this.dsl.table<K, Exclude<V, S>>(this.addOperator('KTABLE-FILTER', 'filterNot', tableFilter(predicate, true), options, ['predicate', predicate]), this.serdes as KnownSerdes<K, Exclude<V, S>>);
  }

  mapValues<V2>(mapper: (value: V, key: K, context: RecordContext) => Synchronous<V2>, options?: OperatorOptions): Table<K, V2> {
    return this.dsl.table<K, V2>(this.addOperator('KTABLE-MAPVALUES', 'mapValues', tableMapValues(mapper), options, ['mapper', mapper]), { key: this.serdes.key });
  }

  groupBy<K2, V2>(selector: (key: K, value: V, context: RecordContext) => Synchronous<[K2, V2]>, options: Named & { key?: Serde<K2>; value?: Serde<V2> } = {}): GroupedTable<K2, V2> {
    return new GraphGroupedTable<K2, V2>(this.dsl, this.node, selector as GroupSelector<unknown, unknown, K2, V2>, options);
  }

  join<VO, R>(other: Table<K, VO>, joiner: Callback, third?: unknown, fourth?: unknown): Table<K, R> {
    return this.joinWith('join', other, joiner, third, fourth);
  }

  leftJoin<VO, R>(other: Table<K, VO>, joiner: Callback, third?: unknown, fourth?: unknown): Table<K, R> {
    return this.joinWith('leftJoin', other, joiner, third, fourth);
  }

  outerJoin<VO, R>(other: Table<K, VO>, joiner: (value: V | null, otherValue: VO | null, key: K, context: RecordContext) => Synchronous<R>, options: TableJoinOptions<K, V, VO, R> = {}): Table<K, R> {
    return this.joinWith('outerJoin', other, joiner, options);
  }

  /** A join by key (`joiner`, options), or on a foreign key (`foreignKey`, `joiner`, options): a function in third place tells them apart. */
  private joinWith<KO, VO, R>(kind: TableJoinKind, other: Table<KO, VO>, first: Callback, third: unknown, fourth?: unknown): Table<K, R> {
    const right = other instanceof GraphTable ? { node: other.node, serdes: (other as GraphTable<KO, VO>).serdes } : undefined;
    const self = { node: this.node, serdes: this.serdes };
    if (typeof third === 'function') {
      if (kind === 'outerJoin') throw new TopologyError(this.node, 'a foreign-key join is a join or a leftJoin, not an outerJoin (as in Kafka Streams).');
      const options = (fourth ?? {}) as ForeignKeyJoinOptions<K, V, KO, VO, R>;
      return joinOnForeignKey<K, V, KO, VO, R>(this.dsl, self, right, first as ForeignKeyExtractor<K, V, KO>, third as ForeignKeyJoiner<K, V, VO, R>, kind === 'leftJoin', options);
    }
    return joinTables<K, V, VO, R>(this.dsl, self, right as TableSide<K, VO> | undefined, first as TableJoiner<K, V, VO, R>, kind, (third ?? {}) as TableJoinOptions<K, V, VO, R>);
  }

  /** Records a processor after this table's node and returns its name. */
  private addOperator(prefix: string, operator: string, supplier: ProcessorSupplier, options: OperatorOptions | undefined, callback: [what: string, value: unknown] | undefined): string {
    const name = this.dsl.graph.nameFor(prefix, options?.name);
    if (callback) requireFunction(name, ...callback);
    this.dsl.graph.add({ kind: 'processor', name, operator, parents: [this.node], supplier, onError: options?.onError });
    return name;
  }
}
