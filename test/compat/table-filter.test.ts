// A filtered table gives what Kafka Streams gives for the same input, record for record: the
// Java scenario `table-filter` (bench/systems/kafka-streams, Scenarios.java) beside Sluice's
// topology below, both with the record cache off. The Java table is materialized, as a Sluice
// table always is (Kafka Streams' filter then gets old values).
import { expect } from 'chai';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { buildKafkaStreams, SideBySide } from '../helpers/kafka-streams.ts';
import { RECENT_HOUR, createUniqueTopic, produceRecords, type TestRecord } from '../helpers/kafka.ts';

type Price = { price: number };

function tableFilter(input: string, output: string) {
  return defineApplication({
    applicationId: 'table-filter',
    keySerde: Serdes.string(),
    valueSerde: Serdes.json(),
    topology: (builder) =>
      builder
        .table<string, Price>(input, { name: 'prices', caching: false })
        .filter((_, v) => v.price >= 50)
        .toStream()
        .to(output),
  });
}

const T0 = RECENT_HOUR;
const price = (key: string, value: number | null, second: number): TestRecord => ({
  key,
  value: value === null ? null : JSON.stringify({ price: value }),
  timestamp: T0 + second * 1_000,
});
const INPUT = [price('a', 10, 1), price('a', 90, 2), price('b', 10, 3), price('b', 95, 4), price('a', 20, 5), price('b', null, 6), price('c', 70, 7)];

/**
 * What Kafka Streams writes for INPUT: a dropped update goes on as a deletion when the key was in
 * the filtered table (a@5), a tombstone of a key in it passes (b@6), and a dropped update of a key
 * that was not there goes nowhere (a@1, b@3).
 */
const KAFKA_STREAMS_OUTPUT = [
  `p0 #0 "a" → {"price":90} @${T0 + 2_000}`,
  `p0 #1 "b" → {"price":95} @${T0 + 4_000}`,
  `p0 #2 "a" → null @${T0 + 5_000}`,
  `p0 #3 "b" → null @${T0 + 6_000}`,
  `p0 #4 "c" → {"price":70} @${T0 + 7_000}`,
];

describe('compat: table filter beside Kafka Streams', function () {
  this.timeout(180_000);

  before(async function () {
    this.timeout(600_000); // the first build downloads Kafka Streams and Maven's plugins
    await buildKafkaStreams();
  });

  async function sideBySide(): Promise<{ input: string; both: SideBySide }> {
    const input = await createUniqueTopic('prices', 1, { 'cleanup.policy': 'compact' });
    const both = await SideBySide.create({ scenario: 'table-filter', inputs: [input], sluice: (inputs, output) => tableFilter(inputs[0]!, output) });
    return { input, both };
  }

  it('writes what Kafka Streams writes for input written before either starts', async () => {
    const { input, both } = await sideBySide();
    await produceRecords(input, INPUT);
    await both.run();
    expect(await both.expectSameOutput()).to.deep.equal(KAFKA_STREAMS_OUTPUT);
  });

  it('still does when both restart on fresh state between two halves of the input, resuming from the committed offset', async () => {
    const { input, both } = await sideBySide();
    await produceRecords(input, INPUT.slice(0, 4));
    await both.run();
    await produceRecords(input, INPUT.slice(4));
    await both.run();
    expect(await both.expectSameOutput()).to.deep.equal(KAFKA_STREAMS_OUTPUT);
  });
});
