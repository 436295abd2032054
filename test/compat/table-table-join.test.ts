// Table-table joins give what Kafka Streams gives for the same input, record for record: the
// Java scenarios `table-table-join`, `-left-join` and `-outer-join` (bench/systems/kafka-streams,
// Scenarios.java) beside Sluice's topology below, both with the record cache off. Rows of both
// tables are added, updated and deleted in turn (a key deleted that was never there too); the
// input is written before either starts, then again in phases with both restarting between them.
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { buildKafkaStreams, SideBySide } from '../helpers/kafka-streams.ts';
import { RECENT_HOUR, createUniqueTopic, produceRecords, type TestRecord } from '../helpers/kafka.ts';

type Kind = 'join' | 'leftJoin' | 'outerJoin';
const SCENARIOS: Array<[scenario: string, kind: Kind]> = [
  ['table-table-join', 'join'],
  ['table-table-left-join', 'leftJoin'],
  ['table-table-outer-join', 'outerJoin'],
];

function rows(kind: Kind) {
  return (inputs: string[], output: string) =>
    defineApplication({
      applicationId: 'table-table-join',
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (builder) => {
        const left = builder.table<string, string>(inputs[0]!, { name: 'left', caching: false });
        const right = builder.table<string, string>(inputs[1]!, { name: 'right', caching: false });
        const show = (l: string | null, r: string | null) => `${l ?? '-'}+${r ?? '-'}`;
        const joined = kind === 'join' ? left.join(right, show) : kind === 'leftJoin' ? left.leftJoin(right, show) : left.outerJoin(right, show);
        joined.toStream().to(output);
      },
    });
}

const T0 = RECENT_HOUR;
const at = (key: string, value: string | null, second: number): TestRecord => ({ key, value: value === null ? null : JSON.stringify(value), timestamp: T0 + second * 1_000 });
const PHASES: Array<{ left: TestRecord[]; right: TestRecord[] }> = [
  { left: [at('k1', 'A', 1), at('k2', 'B', 3)], right: [at('k1', 'a', 2), at('k3', 'c', 4)] },
  { left: [at('k1', 'A2', 5), at('k3', 'C', 7), at('k4', null, 9)], right: [at('k2', 'b', 6), at('k1', null, 8)] },
  { left: [at('k2', null, 10), at('k1', 'A3', 12)], right: [at('k3', null, 11), at('k1', 'a2', 13), at('k2', 'b2', 14)] },
];

describe('compat: table-table joins beside Kafka Streams', function () {
  this.timeout(300_000);

  before(async function () {
    this.timeout(600_000); // the first build downloads Kafka Streams and Maven's plugins
    await buildKafkaStreams();
  });

  for (const [scenario, kind] of SCENARIOS) {
    it(`${scenario}: writes what Kafka Streams writes for input written before either starts`, async () => {
      const [left, right] = await Promise.all([createUniqueTopic('left', 1, { 'cleanup.policy': 'compact' }), createUniqueTopic('right', 1, { 'cleanup.policy': 'compact' })]);
      await produceRecords(left, PHASES.flatMap((p) => p.left));
      await produceRecords(right, PHASES.flatMap((p) => p.right));
      const both = await SideBySide.create({ scenario, inputs: [left, right], sluice: rows(kind) });
      await both.run();
      await both.expectSameOutput();
    });

    it(`${scenario}: writes what Kafka Streams writes when both restart between phases of the input${kind === 'outerJoin' ? ', under exactly-once' : ''}`, async () => {
      const [left, right] = await Promise.all([createUniqueTopic('left', 1, { 'cleanup.policy': 'compact' }), createUniqueTopic('right', 1, { 'cleanup.policy': 'compact' })]);
      const both = await SideBySide.create({ scenario, inputs: [left, right], sluice: rows(kind), ...(kind === 'outerJoin' ? { guarantee: 'exactly_once' as const } : {}) });
      for (const phase of PHASES) {
        await produceRecords(left, phase.left);
        await produceRecords(right, phase.right);
        await both.run();
      }
      await both.expectSameOutput();
    });
  }
});
