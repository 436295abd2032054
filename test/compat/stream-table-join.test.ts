// A stream-table join gives what Kafka Streams gives for the same input, record for record: the
// Java scenarios `stream-table-join` and `stream-table-left-join` (bench/systems/kafka-streams,
// Scenarios.java) beside Sluice's topology below. Input written before either starts, orders and
// customer updates interleaved by time (both process a task's records in timestamp order), and
// the same input written in phases with both restarting between them.
import { expect } from 'chai';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { buildKafkaStreams, SideBySide } from '../helpers/kafka-streams.ts';
import { RECENT_HOUR, createUniqueTopic, produceRecords, type TestRecord } from '../helpers/kafka.ts';

interface Order {
  item: string;
}
interface Customer {
  name: string;
}

function enrichment(left: boolean) {
  return (inputs: string[], output: string) =>
    defineApplication({
      applicationId: left ? 'stream-table-left-join' : 'stream-table-join',
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (builder) => {
        const customers = builder.table<string, Customer>(inputs[1]!, { name: 'customers' });
        const orders = builder.stream<string, Order>(inputs[0]!);
        const describe = (order: Order, customer: Customer | null) => `${order.item} for ${customer === null ? 'nobody' : customer.name}`;
        (left ? orders.leftJoin(customers, describe) : orders.join(customers, describe)).to(output);
      },
    });
}

const T0 = RECENT_HOUR;
const at = (key: string | null, value: object | null, second: number): TestRecord => ({ key, value: value === null ? null : JSON.stringify(value), timestamp: T0 + second * 1_000 });
/** Orders and customer rows interleaved by time: each order must meet the row current at its time. */
const INTERLEAVED = {
  customers: [at('c1', { name: 'Ada' }, 1), at('c2', { name: 'Bob' }, 2), at('c1', { name: 'Ada L.' }, 8), at('c2', null, 9), at('c3', { name: 'Cy' }, 10)],
  orders: [at('c1', { item: 'book' }, 3), at('c3', { item: 'cup' }, 4), at(null, { item: 'keyless' }, 5), at('c2', null, 6), at('c2', { item: 'pen' }, 7), at('c1', { item: 'ink' }, 11), at('c2', { item: 'mug' }, 12), at('c3', { item: 'lamp' }, 13)],
};

const PHASES: Array<{ customers: TestRecord[]; orders: TestRecord[] }> = [
  { customers: [at('c1', { name: 'Ada' }, 1), at('c2', { name: 'Bob' }, 2)], orders: [] },
  { customers: [], orders: [at('c1', { item: 'book' }, 3), at('c3', { item: 'cup' }, 4), at(null, { item: 'keyless' }, 5), at('c2', null, 6), at('c2', { item: 'pen' }, 7)] },
  { customers: [at('c1', { name: 'Ada L.' }, 8), at('c2', null, 9), at('c3', { name: 'Cy' }, 10)], orders: [] },
  { customers: [], orders: [at('c1', { item: 'ink' }, 11), at('c2', { item: 'mug' }, 12), at('c3', { item: 'lamp' }, 13)] },
];

describe('compat: stream-table joins beside Kafka Streams', function () {
  this.timeout(300_000);

  before(async function () {
    this.timeout(600_000); // the first build downloads Kafka Streams and Maven's plugins
    await buildKafkaStreams();
  });

  for (const left of [false, true]) {
    const scenario = left ? 'stream-table-left-join' : 'stream-table-join';
    it(`${left ? 'leftJoin' : 'join'}: writes what Kafka Streams writes for input written before either starts, orders and customer updates interleaved by time`, async () => {
      const orders = await createUniqueTopic('orders', 1);
      const customers = await createUniqueTopic('customers', 1, { 'cleanup.policy': 'compact' });
      await produceRecords(orders, INTERLEAVED.orders);
      await produceRecords(customers, INTERLEAVED.customers);
      const both = await SideBySide.create({ scenario, inputs: [orders, customers], sluice: enrichment(left) });
      await both.run();
      const expected = await both.expectSameOutput();
      expect(expected).to.have.length(left ? 7 : 4);
    });

    it(`${left ? 'leftJoin' : 'join'}: writes what Kafka Streams writes, null keys and values, table updates and deletions included`, async () => {
      const orders = await createUniqueTopic('orders', 1);
      const customers = await createUniqueTopic('customers', 1, { 'cleanup.policy': 'compact' });
      const both = await SideBySide.create({ scenario, inputs: [orders, customers], sluice: enrichment(left) });
      for (const phase of PHASES) {
        await produceRecords(customers, phase.customers);
        await produceRecords(orders, phase.orders);
        await both.run();
      }
      const expected = await both.expectSameOutput();
      expect(expected).to.have.length(left ? 7 : 4);
    });
  }
});
