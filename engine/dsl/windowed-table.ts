import type { Windowed, WindowSpec } from '../processors/windows/specs.ts';
import { suppressUntilWindowCloses } from '../processors/windows/suppress.ts';
import { untyped } from '../processors/processor.ts';
import { bufferedSerde } from '../serde/windowed.ts';
import type { Serde } from '../serde/serde.ts';
import { TopologyError } from '../errors.ts';
import type { WindowedTable } from './api.ts';
import type { DslContext } from './dsl-context.ts';
import { guardOperators } from './operator-guard.ts';
import type { KnownSerdes } from './stream-options.ts';
import type { Suppressed } from './suppressed.ts';
import { GraphTable, TABLE_OPERATORS } from './table.ts';

/** A table of windowed aggregates, which can hold its updates back until each window closes. */
export class GraphWindowedTable<K, V> extends GraphTable<Windowed<K>, V> implements WindowedTable<K, V> {
  private readonly windowedDsl: DslContext;
  private readonly windowedSerdes: KnownSerdes<Windowed<K>, V>;
  private readonly windows: WindowSpec;

  /** @internal Windowed tables come from windowed aggregations. */
  constructor(dsl: DslContext, node: string, serdes: KnownSerdes<Windowed<K>, V>, store: string | undefined, windows: WindowSpec) {
    super(dsl, node, serdes, store);
    this.windowedDsl = dsl;
    this.windowedSerdes = serdes;
    this.windows = windows;
    return guardOperators(this, 'windowed table', node, [...TABLE_OPERATORS, 'suppress']);
  }

  suppress(suppressed: Suppressed): WindowedTable<K, V> {
    const { graph } = this.windowedDsl;
    const name = graph.nameFor('KTABLE-SUPPRESS', undefined);
    if (typeof suppressed !== 'object' || suppressed === null || suppressed.kind !== 'until-window-closes') {
      throw new TopologyError(name, 'suppress takes Suppressed.untilWindowCloses() (final results only).');
    }
    const windows = this.windows;
    // A session closes gap after its end as well (Kafka Streams' grace for a session table).
    const graceMs = windows.kind === 'session' ? windows.graceMs + windows.gapMs : windows.graceMs;
    const store = graph.addStore(
      {
        name: suppressed.name ?? `${this.store ?? this.node}-final`,
        keySerde: this.windowedSerdes.key as Serde<unknown> | undefined,
        valueSerde: bufferedSerde(this.windowedSerdes.value) as Serde<unknown>,
        // The cache logs each window's latest update once per commit, and nothing for a window
        // both buffered and sent within one: at most one changelog record per window and commit.
        preload: true,
      },
      name,
    ).name;
    graph.add({ kind: 'processor', name, operator: `suppress until window closes (grace ${graceMs} ms)`, parents: [this.node], supplier: untyped(suppressUntilWindowCloses<K, V>({ store, graceMs, endInclusive: windows.kind !== 'time' })), stores: [store] });
    return new GraphWindowedTable<K, V>(this.windowedDsl, name, this.windowedSerdes, this.store, windows);
  }
}
