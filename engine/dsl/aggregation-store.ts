import type { Serde } from '../serde/serde.ts';
import type { LogicalGraph } from './graph.ts';
import type { KnownSerdes, Materialized } from './stream-options.ts';

/**
 * Declares the store of an aggregation over grouped records (a grouped stream's or a grouped
 * table's) and returns its name: named by `materialized`, keyed by the group key (its serde the
 * materialized one, else the grouping's), valued by `defaultValueSerde` unless given one. The
 * records reach it grouped by key (through a repartition topic when keys changed), so its key is
 * the partition key.
 */
export function aggregationStore<K, A>(graph: LogicalGraph, operator: string, materialized: Materialized<K, A> | undefined, serdes: KnownSerdes<K, unknown>, defaultValueSerde: Serde<A> | undefined): string {
  // Without an object, the store's own check says a name is needed.
  const given = materialized ?? ({} as Materialized<K, A>);
  return graph.addStore(
    {
      name: given.name,
      keySerde: (given.key ?? serdes.key) as Serde<unknown> | undefined,
      valueSerde: (given.value ?? defaultValueSerde) as Serde<unknown> | undefined,
      caching: given.caching,
      partitionedByKey: true,
    },
    operator,
  ).name;
}
