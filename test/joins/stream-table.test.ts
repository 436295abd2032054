// Stream-table joins under the TestDriver: which side triggers, left joins, null keys and values
// (Kafka Streams 3.7, KIP-962), joiner failures, and the repartition a changed key needs.
import { expect } from 'chai';
import { defineApplication, Serdes, StreamsBuilder, TestDriver, TopologyError } from 'sluice';
import { compile } from '../../engine/topology/compile.ts';
import { describeJson } from '../../engine/topology/describe.ts';
import type { ApplicationDefinition } from '../../engine/runtime/definition.ts';

type Topology = ApplicationDefinition['topology'];
interface Order {
  item: string;
  customer?: string;
}
interface Customer {
  name: string;
}

const app = (topology: Topology, onProcessingError?: ApplicationDefinition['onProcessingError']) =>
  defineApplication({ applicationId: 'joins-test', keySerde: Serdes.string(), valueSerde: Serdes.json(), topology, ...(onProcessingError ? { onProcessingError } : {}) });

function enrich(b: StreamsBuilder, left: boolean): void {
  const customers = b.table<string, Customer>('customers', { name: 'customers' });
  const orders = b.stream<string, Order>('orders');
  const joined = left
    ? orders.leftJoin(customers, (order, customer) => `${order.item} for ${customer?.name ?? 'nobody'}`, { name: 'enrich' })
    : orders.join(customers, (order, customer) => `${order.item} for ${customer.name}`, { name: 'enrich' });
  joined.to('enriched', { value: Serdes.string() });
}

describe('stream-table joins (TestDriver)', () => {
  const drivers: TestDriver[] = [];
  const start = async (topology: Topology, onProcessingError?: ApplicationDefinition['onProcessingError']) => {
    const driver = await TestDriver.create(app(topology, onProcessingError));
    drivers.push(driver);
    return driver;
  };
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.close();
  });

  it('joins each order with its customer as the table holds it then; table updates trigger nothing', async () => {
    const driver = await start((b) => enrich(b, false));
    const customers = driver.inputTopic<string, Customer | null>('customers');
    const orders = driver.inputTopic<string, Order>('orders');
    await orders.pipe('c1', { item: 'early' }, { timestamp: 1 });
    await customers.pipe('c1', { name: 'Ada' }, { timestamp: 2 });
    await orders.pipe('c1', { item: 'book' }, { timestamp: 3 });
    await customers.pipe('c1', { name: 'Ada L.' }, { timestamp: 4 });
    await orders.pipe('c1', { item: 'pen' }, { timestamp: 5 });
    await orders.pipe('c2', { item: 'cup' }, { timestamp: 6 });
    await customers.pipe('c1', null, { timestamp: 7 });
    await orders.pipe('c1', { item: 'ink' }, { timestamp: 8 });
    const out = driver.outputTopic<string, string>('enriched', { value: Serdes.string() }).readRecords();
    expect(out.map((r) => [r.key, r.value, r.timestamp])).to.deep.equal([
      ['c1', 'book for Ada', 3],
      ['c1', 'pen for Ada L.', 5],
    ]);
  });

  it('left join: an order without a customer, or without a key, is joined with null; one without a value is dropped and counted', async () => {
    const driver = await start((b) => enrich(b, true));
    const customers = driver.inputTopic<string, Customer>('customers');
    const orders = driver.inputTopic<string | null, Order | null>('orders');
    await customers.pipe('c1', { name: 'Ada' });
    await orders.pipe('c1', { item: 'book' });
    await orders.pipe('c9', { item: 'cup' });
    await orders.pipe(null, { item: 'keyless' });
    await orders.pipe('c1', null);
    const out = driver.outputTopic<string | null, string>('enriched', { value: Serdes.string() }).readKeyValues();
    expect(out).to.deep.equal([
      ['c1', 'book for Ada'],
      ['c9', 'cup for nobody'],
      [null, 'keyless for nobody'],
    ]);
    expect(driver.droppedRecords()).to.deep.equal(new Map([['enrich', 1]]));
  });

  it('inner join: records with a null key or value are dropped and counted', async () => {
    const driver = await start((b) => enrich(b, false));
    await driver.inputTopic<string, Customer>('customers').pipe('c1', { name: 'Ada' });
    const orders = driver.inputTopic<string | null, Order | null>('orders');
    await orders.pipe(null, { item: 'keyless' });
    await orders.pipe('c1', null);
    await orders.pipe('c1', { item: 'book' });
    expect(driver.outputTopic<string, string>('enriched', { value: Serdes.string() }).readValues()).to.deep.equal(['book for Ada']);
    expect(driver.droppedRecords()).to.deep.equal(new Map([['enrich', 2]]));
  });

  it('sends a joiner that throws to the error handling, with the record', async () => {
    const driver = await start(
      (b) =>
        b
          .stream<string, Order>('orders')
          .join(b.table<string, Customer>('customers', { name: 'customers' }), (order, customer) => {
            if (order.item === 'bad') throw new Error('cannot join a bad item');
            return `${order.item} for ${customer.name}`;
          }, { name: 'enrich' })
          .to('enriched', { value: Serdes.string() }),
      { deadLetterTopic: 'dead' },
    );
    await driver.inputTopic<string, Customer>('customers').pipe('c1', { name: 'Ada' });
    const orders = driver.inputTopic<string, Order>('orders');
    await orders.pipe('c1', { item: 'bad' });
    await orders.pipe('c1', { item: 'good' });
    expect(driver.outputTopic<string, string>('enriched', { value: Serdes.string() }).readValues()).to.deep.equal(['good for Ada']);
    const dead = driver.outputTopic('dead', { key: Serdes.bytes(), value: Serdes.bytes() }).readRaw();
    expect(dead).to.have.length(1);
    expect(JSON.parse(dead[0]!.value!.toString())).to.deep.equal({ item: 'bad' });
    const headers = Object.assign({}, ...(dead[0]!.headers ?? [])) as Record<string, Buffer>;
    expect(String(headers['sluice.error.operator'])).to.equal('enrich');
  });

  it('repartitions the stream when its key was changed upstream, in the sub-topology of the table', async () => {
    const topology = (b: StreamsBuilder) => {
      const customers = b.table<string, Customer>('customers', { name: 'customers' });
      b.stream<string, Order>('orders')
        .selectKey((_, order) => order.customer!)
        .join(customers, (order, customer) => `${order.item} for ${customer.name}`, { name: 'enrich' })
        .to('enriched', { value: Serdes.string() });
    };
    const builder = new StreamsBuilder();
    topology(builder);
    const described = describeJson(compile(builder.build(), { applicationId: 'joins-test', keySerde: Serdes.string(), valueSerde: Serdes.json() }));
    const joining = described.subtopologies.find((s) => s.nodes.some((n) => n.name === 'enrich'))!;
    expect(joining.nodes.flatMap((n) => n.topics ?? [])).to.have.members(['customers', 'joins-test-enrich-repartition']);
    const driver = await start(topology);
    await driver.inputTopic<string, Customer>('customers').pipe('c1', { name: 'Ada' });
    await driver.inputTopic<string, Order>('orders').pipe('o-1', { item: 'book', customer: 'c1' });
    expect(driver.outputTopic<string, string>('enriched', { value: Serdes.string() }).readKeyValues()).to.deep.equal([['c1', 'book for Ada']]);
  });

  it('processes the records of both sides in timestamp order, however they were fetched', async () => {
    const driver = await start((b) => enrich(b, true));
    const json = (value: object) => Buffer.from(JSON.stringify(value));
    // One batch: the orders come first, each after the customer row it should meet by time.
    await driver.write([
      { topic: 'orders', key: Buffer.from('c1'), value: json({ item: 'book' }), timestamp: 20 },
      { topic: 'orders', key: Buffer.from('c1'), value: json({ item: 'pen' }), timestamp: 40 },
      { topic: 'customers', key: Buffer.from('c1'), value: json({ name: 'Ada' }), timestamp: 10 },
      { topic: 'customers', key: Buffer.from('c1'), value: json({ name: 'Ada L.' }), timestamp: 30 },
    ]);
    expect(driver.outputTopic<string, string>('enriched', { value: Serdes.string() }).readValues()).to.deep.equal(['book for Ada', 'pen for Ada L.']);
  });

  it('refuses a table without a store of its own, and a joiner that is not a function, naming the join', () => {
    const b = new StreamsBuilder();
    const filtered = b.table<string, Customer>('customers', { name: 'customers' }).filter((_, c) => c.name !== '');
    const orders = b.stream<string, Order>('orders');
    expect(() => orders.join(filtered, (o) => o, { name: 'enrich' })).to.throw(TopologyError, /enrich.*has none/);
    const table = new StreamsBuilder().table<string, Customer>('customers', { name: 'customers' });
    expect(() => new StreamsBuilder().stream<string, Order>('orders').join(table, 'nope' as never, { name: 'enrich2' })).to.throw(TopologyError, /enrich2/);
  });
});
