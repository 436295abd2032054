// A re-keyed table aggregation gives what Kafka Streams gives for the same input, record for
// record: the Java scenarios `table-regroup-count` and `table-regroup-sum` (bench/systems/
// kafka-streams, Scenarios.java), users counted and their ages summed per country as they move,
// beside Sluice's topology below, both with the record cache off.
import { expect } from 'chai';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { buildKafkaStreams, SideBySide } from '../helpers/kafka-streams.ts';
import { RECENT_HOUR, createUniqueTopic, produceRecords, type TestRecord } from '../helpers/kafka.ts';

interface User {
  country: string;
  age: number;
}

function regroup(count: boolean) {
  return (inputs: string[], output: string) =>
    defineApplication({
      applicationId: 'table-regroup',
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (builder) => {
        const byCountry = builder.table<string, User>(inputs[0]!, { name: 'users', caching: false }).groupBy((_, user) => [user.country, user]);
        const result = count
          ? byCountry.count({ name: 'per-country', caching: false })
          : byCountry.aggregate(() => 0, (_, user, sum) => sum + user.age, (_, user, sum) => sum - user.age, { name: 'age-sums', caching: false });
        result.toStream().to(output);
      },
    });
}

const T0 = RECENT_HOUR;
const user = (key: string, value: User | null, second: number): TestRecord => ({ key, value: value === null ? null : JSON.stringify(value), timestamp: T0 + second * 1_000 });
const INPUT = [
  user('u1', { country: 'FR', age: 30 }, 1),
  user('u2', { country: 'FR', age: 40 }, 2),
  user('u3', { country: 'DE', age: 25 }, 3),
  // u1 moves: leaves FR, joins DE.
  user('u1', { country: 'DE', age: 30 }, 4),
  // u2 stays in FR, one year older: one change of FR.
  user('u2', { country: 'FR', age: 41 }, 5),
  // u3 leaves: DE loses it.
  user('u3', null, 6),
  // u2 leaves too: FR counts 0.
  user('u2', null, 7),
  user('u4', { country: 'IT', age: 50 }, 8),
];

describe('compat: re-keyed table aggregations beside Kafka Streams', function () {
  this.timeout(180_000);

  before(async function () {
    this.timeout(600_000);
    await buildKafkaStreams();
  });

  for (const count of [true, false]) {
    it(`${count ? 'counts' : 'sums ages'} per group as rows move, change within their group and leave, as Kafka Streams does`, async () => {
      const input = await createUniqueTopic('users', 1, { 'cleanup.policy': 'compact' });
      await produceRecords(input, INPUT);
      const both = await SideBySide.create({ scenario: count ? 'table-regroup-count' : 'table-regroup-sum', inputs: [input], sluice: regroup(count) });
      await both.run();
      const expected = await both.expectSameOutput();
      // One update per row change, two when a row moves between groups.
      expect(expected).to.have.length(INPUT.length + 1);
    });
  }
});
