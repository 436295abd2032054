// Stream-table joins on a real broker: records moved to another key go through a repartition
// topic sized like the table's topic and meet their table row in the same task; topics with
// different partition counts are refused at start, naming them and their counts.
import { expect } from 'chai';
import { ApplicationError, defineApplication, Serdes } from 'sluice';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { startApplication, waitForRecords } from '../helpers/app.ts';
import { bootstrapServers, createUniqueTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

interface Order {
  item: string;
  customer: string;
}

function enrichment(applicationId: string, orders: string, customers: string, output: string) {
  return defineApplication({
    applicationId,
    keySerde: Serdes.string(),
    valueSerde: Serdes.json(),
    topology: (b) => {
      const table = b.table<string, { name: string }>(customers, { name: 'customers' });
      b.stream<string, Order>(orders)
        .selectKey((_, order) => order.customer)
        .leftJoin(table, (order, customer) => `${order.item} for ${customer?.name ?? 'nobody'}`, { name: 'enrich' })
        .to(output, { value: Serdes.string() });
    },
  });
}

describe('stream-table joins on a broker', function () {
  this.timeout(120_000);

  it('joins records re-keyed upstream through a repartition topic sized like the table topic', async () => {
    const orders = await createUniqueTopic('orders', 2);
    const customers = await createUniqueTopic('customers', 3, { 'cleanup.policy': 'compact' });
    const output = await createUniqueTopic('enriched', 1);
    const applicationId = uniqueName('join');
    const names = Array.from({ length: 30 }, (_, i) => ({ key: `c${i}`, value: JSON.stringify({ name: `name-${i}` }) }));
    await produceRecords(customers, names);
    const app = await startApplication(enrichment(applicationId, orders, customers, output), { applicationId, stateDir: tempStateDir(), commitIntervalMs: 100 });
    try {
      // The table is read before the orders come (no ordering by time across partitions yet).
      const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
      try {
        for (let i = 0; i < 100; i++) {
          const committed = await admin.groupOffsets(applicationId);
          if (committed.filter((o) => o.topic === customers).reduce((n, o) => n + o.offset, 0) >= names.length) break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const [repartition] = await admin.describeTopics([`${applicationId}-enrich-repartition`]);
        expect(repartition?.partitions).to.equal(3);
      } finally {
        admin.disconnect();
      }
      const placed = Array.from({ length: 60 }, (_, i) => ({ key: `o${i}`, value: JSON.stringify({ item: `item-${i}`, customer: `c${i % 40}` }) }));
      await produceRecords(orders, placed);
      const out = await waitForRecords(output, placed.length);
      const got = new Map(out.map((r) => [r.value!.toString().split(' for ')[0], `${r.key!.toString()} ${r.value!.toString()}`]));
      for (let i = 0; i < placed.length; i++) {
        const customer = i % 40;
        expect(got.get(`item-${i}`)).to.equal(`c${customer} item-${i} for ${customer < 30 ? `name-${customer}` : 'nobody'}`);
      }
      expect(out).to.have.length(placed.length);
    } finally {
      await app.close();
    }
  });

  it('sizes the repartition topics of a join that reads only repartition topics alike: the widest count', async () => {
    const orders = await createUniqueTopic('orders', 2);
    const clicks = await createUniqueTopic('clicks', 3);
    const output = await createUniqueTopic('enriched', 1);
    const applicationId = uniqueName('join-internal');
    const definition = defineApplication({
      applicationId,
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (b) => {
        const clicksPerCustomer = b.stream<string, { customer: string }>(clicks).groupBy((_, click) => click.customer).count({ name: 'clicks-per-customer' });
        b.stream<string, Order>(orders)
          .selectKey((_, order) => order.customer)
          .join(clicksPerCustomer, (order, count) => `${order.item} by a customer with ${count} clicks`, { name: 'enrich' })
          .to(output, { value: Serdes.string() });
      },
    });
    await produceRecords(clicks, [{ key: 'k1', value: JSON.stringify({ customer: 'c1' }) }, { key: 'k2', value: JSON.stringify({ customer: 'c1' }) }]);
    const app = await startApplication(definition, { applicationId, stateDir: tempStateDir(), commitIntervalMs: 100 });
    try {
      const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
      try {
        const described = await admin.describeTopics([`${applicationId}-enrich-repartition`, `${applicationId}-clicks-per-customer-repartition`]);
        expect(described.map((t) => t.partitions)).to.deep.equal([3, 3]);
      } finally {
        admin.disconnect();
      }
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await produceRecords(orders, [{ key: 'o1', value: JSON.stringify({ item: 'book', customer: 'c1' }) }]);
      const out = await waitForRecords(output, 1);
      expect(out.map((r) => r.value!.toString())).to.deep.equal(['book by a customer with 2 clicks']);
    } finally {
      await app.close();
    }
  });

  it('refuses at start a join of topics with different partition counts, naming them and their counts', async () => {
    const orders = await createUniqueTopic('orders', 2);
    const customers = await createUniqueTopic('customers', 3, { 'cleanup.policy': 'compact' });
    const output = await createUniqueTopic('enriched', 1);
    const applicationId = uniqueName('join-mismatch');
    const definition = defineApplication({
      applicationId,
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (b) => b.stream<string, Order>(orders).join(b.table<string, { name: string }>(customers, { name: 'customers' }), (o, c) => `${o.item} ${c.name}`).to(output, { value: Serdes.string() }),
    });
    let error: unknown;
    try {
      const app = await startApplication(definition, { applicationId, stateDir: tempStateDir() });
      await app.close();
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ApplicationError);
    expect((error as Error).message).to.contain(`"${orders}" has 2`).and.to.contain(`"${customers}" has 3`);
  });
});
