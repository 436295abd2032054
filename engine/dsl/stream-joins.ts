import { TopologyError } from '../errors.ts';
import { passthrough } from '../processors/passthrough.ts';
import { streamStreamJoin, type StreamJoiner } from '../processors/stream-join/stream-stream-join.ts';
import { JoinWindows } from '../processors/windows/join-windows.ts';
import { unmatchedKeySerde, unmatchedValueSerde, valueListSerde } from '../serde/join-serdes.ts';
import type { Serde } from '../serde/serde.ts';
import { segmentInterval } from '../../state/window/windowed-keys.ts';
import type { Stream } from './api.ts';
import { requireFunction } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import type { JoinSide } from './joins.ts';
import type { StreamJoinOptions } from './stream-options.ts';

export type StreamJoinKind = 'join' | 'leftJoin' | 'outerJoin';

/**
 * Records a stream-stream join and returns its output stream: a processor per stream, each
 * reading both streams' window stores (so both go in one sub-topology, whose source topics must
 * have equal partition counts), and a merge of their outputs. A stream whose keys were changed
 * upstream goes through a repartition topic first (`<application.id>-<join>-left-repartition`,
 * `-right-repartition`).
 */
export function joinStreams<K, VL, VR, R>(
  dsl: DslContext,
  left: JoinSide<K, VL>,
  right: JoinSide<K, VR>,
  joiner: StreamJoiner<K, VL, VR, R>,
  windows: JoinWindows,
  kind: StreamJoinKind,
  options: StreamJoinOptions<K, VL, VR>,
): Stream<K, R> {
  const { graph } = dsl;
  const outerLeft = kind !== 'join';
  const outerRight = kind === 'outerJoin';
  const base = graph.nameFor(outerRight ? 'KSTREAM-OUTERJOIN' : outerLeft ? 'KSTREAM-LEFTJOIN' : 'KSTREAM-JOIN', options.name);
  requireFunction(base, 'joiner', joiner);
  if (!(windows instanceof JoinWindows)) throw new TopologyError(base, `${kind} of two streams takes JoinWindows, e.g. JoinWindows.ofTimeDifferenceAndGrace(600_000, 60_000).`);
  const problem = windows.problem();
  if (problem) throw new TopologyError(base, `${problem}.`);

  const keySerde = (options.key ?? left.serdes.key ?? right.serdes.key) as Serde<unknown> | undefined;
  const leftValue = (options.value ?? left.serdes.value) as Serde<unknown> | undefined;
  const rightValue = (options.otherValue ?? right.serdes.value) as Serde<unknown> | undefined;
  const input = (side: JoinSide<K, unknown>, which: 'left' | 'right', valueSerde: Serde<unknown> | undefined): string => {
    if (!side.keyChanged) return side.node;
    const name = graph.nameFor('KSTREAM-REPARTITION', `${base}-${which}-repartition`);
    graph.add({ kind: 'repartition', name, parents: [side.node], topic: `${base}-${which}`, keySerde, valueSerde });
    return name;
  };
  const retentionMs = windows.retentionMs;
  const buffer = (suffix: string, valueSerde: Serde<unknown> | undefined) =>
    graph.addStore(
      {
        name: `${base}-${suffix}-store`,
        keySerde,
        valueSerde: valueListSerde(valueSerde) as Serde<unknown>,
        partitionedByKey: true,
        // The records of a key in a time range are found through an index in memory, built at start.
        preload: true,
        windowed: { kind: 'time', sizeMs: 0, endInclusive: true, retentionMs, segmentIntervalMs: segmentInterval(retentionMs) },
      },
      base,
    ).name;
  const leftStore = buffer(outerRight ? 'outer-this-join' : 'this-join', leftValue);
  const rightStore = buffer(outerLeft ? 'outer-other-join' : 'other-join', rightValue);
  const unmatchedStore = outerLeft
    ? graph.addStore({ name: `${base}-outer-shared-join-store`, keySerde: unmatchedKeySerde(keySerde) as Serde<unknown>, valueSerde: unmatchedValueSerde(leftValue, rightValue) as Serde<unknown>, preload: true }, base).name
    : undefined;

  const suppliers = streamStreamJoin<K, VL, VR, R>({ windows, joiner, leftStore, rightStore, unmatchedStore, outerLeft, outerRight });
  const stores = [leftStore, rightStore, ...(unmatchedStore ? [unmatchedStore] : [])];
  const sides: Array<[string, string, string]> = [
    [graph.nameFor(outerRight ? 'KSTREAM-OUTERTHIS' : 'KSTREAM-JOINTHIS', `${base}-this`), input(left as JoinSide<K, unknown>, 'left', leftValue), 'left'],
    [graph.nameFor(outerLeft ? 'KSTREAM-OUTEROTHER' : 'KSTREAM-JOINOTHER', `${base}-other`), input(right as JoinSide<K, unknown>, 'right', rightValue), 'right'],
  ];
  for (const [name, parent, which] of sides) {
    graph.add({ kind: 'processor', name, operator: `${kind} (${which} side, ${windows})`, parents: [parent], supplier: which === 'left' ? suppliers.left : suppliers.right, onError: options.onError, stores, copartitioned: true });
  }
  const merged = graph.nameFor('KSTREAM-MERGE', `${base}-merge`);
  graph.add({ kind: 'processor', name: merged, operator: 'merge', parents: sides.map(([name]) => name), supplier: passthrough });
  return dsl.stream<K, R>(merged, { key: left.serdes.key });
}
