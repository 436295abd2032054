// Stream-stream joins give what Kafka Streams gives for the same input, record for record: the
// Java scenarios `stream-stream-join`, `-left-join`, `-outer-join` and `-after-join` (an outer join
// whose window only looks forward from the left record; bench/systems/kafka-streams,
// Scenarios.java) beside Sluice's topology below. The input mixes matches both ways, bounds,
// records past their window, null keys and values and duplicates; it is written before either
// starts, then again in phases with both restarting between them (state restored).
import { JoinWindows } from '../../engine/processors/windows/join-windows.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { buildKafkaStreams, SideBySide } from '../helpers/kafka-streams.ts';
import { RECENT_HOUR, createUniqueTopic, produceRecords, type TestRecord } from '../helpers/kafka.ts';

type Kind = 'join' | 'leftJoin' | 'outerJoin';
const SCENARIOS: Array<{ scenario: string; kind: Kind; windows: JoinWindows }> = [
  { scenario: 'stream-stream-join', kind: 'join', windows: JoinWindows.ofTimeDifferenceAndGrace(10_000, 2_000) },
  { scenario: 'stream-stream-left-join', kind: 'leftJoin', windows: JoinWindows.ofTimeDifferenceAndGrace(10_000, 2_000) },
  { scenario: 'stream-stream-outer-join', kind: 'outerJoin', windows: JoinWindows.ofTimeDifferenceAndGrace(10_000, 2_000) },
  { scenario: 'stream-stream-after-join', kind: 'outerJoin', windows: JoinWindows.ofTimeDifferenceAndGrace(10_000, 2_000).before(0) },
];

function pairs(kind: Kind, windows: JoinWindows) {
  return (inputs: string[], output: string) =>
    defineApplication({
      applicationId: 'stream-stream-join',
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (builder) => {
        const left = builder.stream<string, string>(inputs[0]!);
        const right = builder.stream<string, string>(inputs[1]!);
        const show = (l: string | null, r: string | null) => `${l ?? '-'}+${r ?? '-'}`;
        const joined = kind === 'join' ? left.join(right, show, windows, { name: 'pairs' }) : kind === 'leftJoin' ? left.leftJoin(right, show, windows, { name: 'pairs' }) : left.outerJoin(right, show, windows, { name: 'pairs' });
        joined.to(output);
      },
    });
}

const T0 = RECENT_HOUR;
const at = (key: string | null, value: string | null, second: number): TestRecord => ({ key, value: value === null ? null : JSON.stringify(value), timestamp: T0 + second * 1_000 });
/** Three phases; each starts at or after the stream time the last one reached (Kafka Streams keeps a join's stream time in memory only). */
const PHASES: Array<{ left: TestRecord[]; right: TestRecord[] }> = [
  { left: [at('k1', 'A', 1), at('k2', 'B', 2)], right: [at('k1', 'a', 5), at('k3', 'x', 7), at('k2', null, 8)] },
  { left: [at('k1', 'C', 14), at(null, 'N', 15)], right: [at('k2', 'g', 12), at('k1', 'b', 20)] },
  {
    // `late` comes after stream time reached 30: its window closed long before.
    left: [at('k4', 'E', 30), at('k1', 'late', 3), at('k5', 'dupe1', 31), at('k5', 'dupe2', 31), at('k3', 'F', 50)],
    right: [at('k5', 'f', 32), at('k4', 'e', 41), at('k9', 'z', 60)],
  },
];

describe('compat: stream-stream joins beside Kafka Streams', function () {
  this.timeout(300_000);

  before(async function () {
    this.timeout(600_000); // the first build downloads Kafka Streams and Maven's plugins
    await buildKafkaStreams();
  });

  for (const { scenario, kind, windows } of SCENARIOS) {
    it(`${scenario}: writes what Kafka Streams writes for input written before either starts`, async () => {
      const [left, right] = await Promise.all([createUniqueTopic('left', 1), createUniqueTopic('right', 1)]);
      await produceRecords(left, PHASES.flatMap((p) => p.left));
      await produceRecords(right, PHASES.flatMap((p) => p.right));
      const both = await SideBySide.create({ scenario, inputs: [left, right], sluice: pairs(kind, windows) });
      await both.run();
      await both.expectSameOutput();
    });
  }

  it('stream-stream-outer-join: writes what Kafka Streams writes under exactly-once', async () => {
    const { scenario, kind, windows } = SCENARIOS.find((s) => s.scenario === 'stream-stream-outer-join')!;
    const [left, right] = await Promise.all([createUniqueTopic('left', 1), createUniqueTopic('right', 1)]);
    await produceRecords(left, PHASES.flatMap((p) => p.left));
    await produceRecords(right, PHASES.flatMap((p) => p.right));
    const both = await SideBySide.create({ scenario, inputs: [left, right], sluice: pairs(kind, windows), guarantee: 'exactly_once' });
    await both.run();
    await both.expectSameOutput();
  });

  for (const { scenario, kind, windows } of SCENARIOS.filter((s) => s.kind !== 'join')) {
    it(`${scenario}: writes what Kafka Streams writes when both restart between phases of the input`, async () => {
      const [left, right] = await Promise.all([createUniqueTopic('left', 1), createUniqueTopic('right', 1)]);
      const both = await SideBySide.create({ scenario, inputs: [left, right], sluice: pairs(kind, windows) });
      for (const phase of PHASES) {
        await produceRecords(left, phase.left);
        await produceRecords(right, phase.right);
        await both.run();
      }
      await both.expectSameOutput();
    });
  }
});
