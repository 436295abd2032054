// A stream-global table join gives what Kafka Streams gives for the same input, record for record:
// the Java scenarios `stream-global-join` and `stream-global-left-join` (bench/systems/kafka-streams,
// Scenarios.java) beside Sluice's topology below. The global topic has 3 partitions and the orders
// 1 (no co-partitioning); orders name customers that exist, do not, or none at all, and come with
// null keys and values; customers are updated, deleted and written with a null key. Each run
// starts both sides afresh, so each restores the global table to its topic's end first.
import { expect } from 'chai';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { buildKafkaStreams, SideBySide } from '../helpers/kafka-streams.ts';
import { RECENT_HOUR, createUniqueTopic, produceRecords, type TestRecord } from '../helpers/kafka.ts';

interface Order {
  item: string;
  customer?: string | null;
}

function enrichment(left: boolean) {
  return (inputs: string[], output: string) =>
    defineApplication({
      applicationId: left ? 'stream-global-left-join' : 'stream-global-join',
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (builder) => {
        const customers = builder.globalTable<string, { name: string }>(inputs[1]!, { name: 'customers' });
        const orders = builder.stream<string, Order>(inputs[0]!);
        const customerOf = (_: string, order: Order) => (typeof order.customer === 'string' ? order.customer : null);
        const describe = (order: Order, customer: { name: string } | null) => `${order.item} for ${customer === null ? 'nobody' : customer.name}`;
        (left ? orders.leftJoin(customers, customerOf, describe) : orders.join(customers, customerOf, describe)).to(output);
      },
    });
}

const at = (key: string | null, value: object | null, second: number): TestRecord => ({ key, value: value === null ? null : JSON.stringify(value), timestamp: RECENT_HOUR + second * 1_000 });
const customers = (second: number) => [
  at('c1', { name: 'Ada' }, second),
  at('c2', { name: 'Bob' }, second),
  at('c3', { name: 'Cy' }, second),
  at('c4', { name: 'Di' }, second),
  at(null, { name: 'keyless' }, second),
];
const orders = (tag: string, second: number) => [
  at(`${tag}1`, { item: `${tag}-book`, customer: 'c1' }, second),
  at(`${tag}2`, { item: `${tag}-cup`, customer: 'c2' }, second),
  at(`${tag}3`, { item: `${tag}-pen`, customer: 'c9' }, second),
  at(`${tag}4`, { item: `${tag}-ink` }, second),
  at(`${tag}5`, { item: `${tag}-mug`, customer: null }, second),
  at(null, { item: `${tag}-keyless`, customer: 'c3' }, second),
  at(`${tag}6`, null, second),
  at(`${tag}7`, { item: `${tag}-lamp`, customer: 'c4' }, second),
];
/** Updates and deletions of customers after the first orders. */
const CHANGES = [at('c1', { name: 'Ada L.' }, 20), at('c2', null, 21), at('c9', { name: 'Ivy' }, 22)];

describe('compat: stream-global table joins beside Kafka Streams', function () {
  this.timeout(300_000);

  before(async function () {
    this.timeout(600_000); // the first build downloads Kafka Streams and Maven's plugins
    await buildKafkaStreams();
  });

  for (const left of [false, true]) {
    const scenario = left ? 'stream-global-left-join' : 'stream-global-join';
    it(`${left ? 'leftJoin' : 'join'}: writes what Kafka Streams writes, over phases with the global table changed between them`, async () => {
      const orderTopic = await createUniqueTopic('orders', 1);
      // Not compacted: a compacted topic refuses the null-keyed record.
      const customerTopic = await createUniqueTopic('customers', 3);
      const both = await SideBySide.create({ scenario, inputs: [orderTopic, customerTopic], global: [customerTopic], sluice: enrichment(left) });
      // Orders stamped before the rows they meet: a global table is read whole before processing.
      await produceRecords(customerTopic, customers(10));
      await produceRecords(orderTopic, orders('a', 1));
      await both.run();
      await produceRecords(customerTopic, CHANGES);
      await produceRecords(orderTopic, orders('b', 30));
      await both.run();
      const expected = await both.expectSameOutput();
      expect(expected).to.have.length(left ? 14 : 8);
    });
  }
});
