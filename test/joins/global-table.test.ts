// Stream-global table joins under the TestDriver: the key selector, join and leftJoin, null keys
// and values (as Kafka Streams 4.1), a selector that throws, deletes and unreadable records in the
// global topic, and the compiler keeping global stores out of the sub-topologies.
import { expect } from 'chai';
import { defineApplication, Serdes, StreamsBuilder, TestDriver, TopologyError, type GlobalTable, type Stream } from 'sluice';
import { compile } from '../../engine/topology/compile.ts';
import { describeJson, describeMermaid, describeText } from '../../engine/topology/describe.ts';
import type { ApplicationDefinition } from '../../engine/runtime/definition.ts';

type Topology = ApplicationDefinition['topology'];
interface Order {
  item: string;
  customer?: string | null;
}
interface Customer {
  name: string;
}

const app = (topology: Topology, settings: Partial<ApplicationDefinition> = {}) =>
  defineApplication({ applicationId: 'global-joins-test', keySerde: Serdes.string(), valueSerde: Serdes.json(), topology, ...settings });

/** Orders keyed by order id, enriched with the customer each names. */
function enrich(b: StreamsBuilder, left: boolean): void {
  const customers = b.globalTable<string, Customer>('customers', { name: 'customers' });
  const orders = b.stream<string | null, Order>('orders');
  const joined = left
    ? orders.leftJoin(customers, (_, order) => order.customer, (order, customer) => `${order.item} for ${customer?.name ?? 'nobody'}`, { name: 'enrich' })
    : orders.join(customers, (_, order) => order.customer, (order, customer) => `${order.item} for ${customer.name}`, { name: 'enrich' });
  joined.to('enriched', { value: Serdes.string() });
}

describe('stream-global table joins (TestDriver)', () => {
  const drivers: TestDriver[] = [];
  const start = async (topology: Topology, settings: Partial<ApplicationDefinition> = {}) => {
    const driver = await TestDriver.create(app(topology, settings));
    drivers.push(driver);
    return driver;
  };
  const enriched = (driver: TestDriver) => driver.outputTopic<string | null, string>('enriched', { value: Serdes.string() });
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.close();
  });

  it('joins each order with the row its key selector names, keeping the order key; updates and deletes of the global table trigger nothing', async () => {
    const driver = await start((b) => enrich(b, false));
    const customers = driver.inputTopic<string, Customer | null>('customers');
    const orders = driver.inputTopic<string, Order>('orders');
    await orders.pipe('o1', { item: 'early', customer: 'c1' }, { timestamp: 1 });
    await customers.pipe('c1', { name: 'Ada' }, { timestamp: 2 });
    await orders.pipe('o2', { item: 'book', customer: 'c1' }, { timestamp: 3 });
    await customers.pipe('c1', { name: 'Ada L.' }, { timestamp: 4 });
    await orders.pipe('o3', { item: 'pen', customer: 'c1' }, { timestamp: 5 });
    await orders.pipe('o4', { item: 'cup', customer: 'c2' }, { timestamp: 6 });
    await customers.pipe('c1', null, { timestamp: 7 });
    await orders.pipe('o5', { item: 'ink', customer: 'c1' }, { timestamp: 8 });
    expect(enriched(driver).readRecords().map((r) => [r.key, r.value, r.timestamp])).to.deep.equal([
      ['o2', 'book for Ada', 3],
      ['o3', 'pen for Ada L.', 5],
    ]);
    expect(await driver.store<string, Customer>('customers').all()).to.deep.equal([]);
  });

  it('left join: a missing row or a null lookup key joins with null, a null order key is no reason to drop; a null value is dropped and counted', async () => {
    const driver = await start((b) => enrich(b, true));
    await driver.inputTopic<string, Customer>('customers').pipe('c1', { name: 'Ada' });
    const orders = driver.inputTopic<string | null, Order | null>('orders');
    await orders.pipe('o1', { item: 'book', customer: 'c1' });
    await orders.pipe('o2', { item: 'cup', customer: 'c9' });
    await orders.pipe('o3', { item: 'anonymous', customer: null });
    await orders.pipe(null, { item: 'keyless', customer: 'c1' });
    await orders.pipe('o4', null);
    expect(enriched(driver).readKeyValues()).to.deep.equal([
      ['o1', 'book for Ada'],
      ['o2', 'cup for nobody'],
      ['o3', 'anonymous for nobody'],
      [null, 'keyless for Ada'],
    ]);
    expect(driver.droppedRecords()).to.deep.equal(new Map([['enrich', 1]]));
  });

  it('inner join: a null lookup key or a null value is dropped and counted; a null order key still joins', async () => {
    const driver = await start((b) => enrich(b, false));
    await driver.inputTopic<string, Customer>('customers').pipe('c1', { name: 'Ada' });
    const orders = driver.inputTopic<string | null, Order | null>('orders');
    await orders.pipe('o1', { item: 'anonymous', customer: null });
    await orders.pipe('o2', null);
    await orders.pipe(null, { item: 'keyless', customer: 'c1' });
    await orders.pipe('o3', { item: 'book', customer: 'c1' });
    expect(enriched(driver).readKeyValues()).to.deep.equal([
      [null, 'keyless for Ada'],
      ['o3', 'book for Ada'],
    ]);
    expect(driver.droppedRecords()).to.deep.equal(new Map([['enrich', 2]]));
  });

  it('passes the record key, value and context to the key selector, which may pick any key type', async () => {
    const seen: Array<[string, string, string]> = [];
    const driver = await start((b) => {
      const prices = b.globalTable<number, number>('prices', { name: 'prices', key: Serdes.int32(), value: Serdes.double() });
      b.stream<string, Order>('orders')
        .join(prices, (key, order, context) => (seen.push([key, order.item, context.topic]), order.item.length), (order, price, key) => `${key}: ${order.item} at ${price}`)
        .to('enriched', { value: Serdes.string() });
    });
    await driver.inputTopic<number, number>('prices').pipeMany([
      [3, 1.5],
      [4, 2.25],
    ]);
    await driver.inputTopic<string, Order>('orders').pipeMany([
      ['o1', { item: 'pen' }],
      ['o2', { item: 'book' }],
      ['o3', { item: 'table' }],
    ]);
    expect(enriched(driver).readValues()).to.deep.equal(['o1: pen at 1.5', 'o2: book at 2.25']);
    expect(seen).to.deep.equal([
      ['o1', 'pen', 'orders'],
      ['o2', 'book', 'orders'],
      ['o3', 'table', 'orders'],
    ]);
  });

  it('sends a key selector that throws to the join error handling, with the order bytes', async () => {
    const driver = await start(
      (b) =>
        b
          .stream<string, Order>('orders')
          .join(
            b.globalTable<string, Customer>('customers', { name: 'customers' }),
            (_, order) => {
              if (order.item === 'bad') throw new Error('no customer for a bad item');
              return order.customer;
            },
            (order, customer) => `${order.item} for ${customer.name}`,
            { name: 'enrich' },
          )
          .to('enriched', { value: Serdes.string() }),
      { onProcessingError: { deadLetterTopic: 'dead' } },
    );
    await driver.inputTopic<string, Customer>('customers').pipe('c1', { name: 'Ada' });
    const orders = driver.inputTopic<string, Order>('orders');
    await orders.pipe('o1', { item: 'bad', customer: 'c1' });
    await orders.pipe('o2', { item: 'good', customer: 'c1' });
    expect(enriched(driver).readValues()).to.deep.equal(['good for Ada']);
    const dead = driver.outputTopic('dead', { key: Serdes.bytes(), value: Serdes.bytes() }).readRaw();
    expect(dead).to.have.length(1);
    expect(JSON.parse(dead[0]!.value!.toString())).to.deep.equal({ item: 'bad', customer: 'c1' });
    const headers = Object.assign({}, ...(dead[0]!.headers ?? [])) as Record<string, Buffer>;
    expect(String(headers['sluice.error.operator'])).to.equal('enrich');
    expect(String(headers['sluice.error.message'])).to.contain('no customer for a bad item');
  });

  it('keeps the whole global topic in its store: a null value deletes, a null key is skipped and counted', async () => {
    const driver = await start((b) => enrich(b, true));
    const customers = driver.inputTopic<string | null, Customer | null>('customers');
    await customers.pipeMany([
      ['c1', { name: 'Ada' }],
      ['c2', { name: 'Grace' }],
      ['c3', { name: 'Edsger' }],
      [null, { name: 'nobody' }],
      ['c2', null],
    ]);
    const store = driver.store<string, Customer>('customers');
    expect(await store.all()).to.deep.equal([
      ['c1', { name: 'Ada' }],
      ['c3', { name: 'Edsger' }],
    ]);
    expect(store.get('c2')).to.equal(undefined);
    expect(driver.droppedRecords()).to.deep.equal(new Map([['customers', 1]]));
  });

  it('applies a global record at once, between the records written before and after it', async () => {
    const driver = await start((b) => enrich(b, true));
    const order = (id: string) => ({ topic: 'orders', key: Buffer.from(id), value: Buffer.from(JSON.stringify({ item: id, customer: 'c1' })) });
    await driver.write([order('before'), { topic: 'customers', key: Buffer.from('c1'), value: Buffer.from('{"name":"Ada"}') }, order('after')]);
    expect(enriched(driver).readValues()).to.deep.equal(['before for nobody', 'after for Ada']);
  });

  it('sees what the topology itself writes to a global topic before its next batch', async () => {
    const driver = await start((b) => {
      const customers = b.globalTable<string, Customer>('customers', { name: 'customers' });
      b.stream<string, Customer>('signups').to('customers');
      b.stream<string, Order>('orders')
        .leftJoin(customers, (_, order) => order.customer, (order, customer) => `${order.item} for ${customer?.name ?? 'nobody'}`)
        .to('enriched', { value: Serdes.string() });
    });
    await driver.inputTopic<string, Customer>('signups').pipe('c1', { name: 'Ada' });
    await driver.inputTopic<string, Order>('orders').pipe('o1', { item: 'book', customer: 'c1' });
    expect(enriched(driver).readValues()).to.deep.equal(['book for Ada']);
  });

  it('skips an unreadable global record with log-and-continue (the key keeps its value); with fail it stops', async () => {
    const lenient = await start((b) => {
      const customers = b.globalTable<string, Customer>('customers', { name: 'customers', onDeserializationError: 'log-and-continue' });
      b.stream<string, Order>('orders').join(customers, (_, o) => o.customer, (o, c) => `${o.item} for ${c.name}`).to('enriched', { value: Serdes.string() });
    });
    const customers = lenient.inputTopic<string, Customer>('customers');
    await customers.pipe('c1', { name: 'Ada' });
    await customers.pipeRaw(Buffer.from('c1'), Buffer.from('{not json'));
    expect(lenient.store<string, Customer>('customers').get('c1')).to.deep.equal({ name: 'Ada' });

    const strict = await start((b) => enrich(b, false));
    let error: unknown;
    await strict
      .inputTopic('customers')
      .pipeRaw(Buffer.from('c1'), Buffer.from('{not json'))
      .catch((err: unknown) => (error = err));
    expect((error as Error | undefined)?.message).to.contain('customers').and.to.contain('not valid JSON');
  });

  it('joins a stream whose keys were changed upstream without a repartition topic', async () => {
    const topology = (b: StreamsBuilder) => {
      const customers = b.globalTable<string, Customer>('customers', { name: 'customers' });
      b.stream<string, Order>('orders')
        .selectKey((_, order) => order.item)
        .join(customers, (_, order) => order.customer, (order, customer) => `${order.item} for ${customer.name}`, { name: 'enrich' })
        .to('enriched', { value: Serdes.string() });
    };
    const builder = new StreamsBuilder();
    topology(builder);
    const compiled = compile(builder.build(), { applicationId: 'g', keySerde: Serdes.string(), valueSerde: Serdes.json() });
    expect(compiled.internalTopics).to.deep.equal([]);
    const driver = await start(topology);
    await driver.inputTopic<string, Customer>('customers').pipe('c1', { name: 'Ada' });
    await driver.inputTopic<string, Order>('orders').pipe('o1', { item: 'pen', customer: 'c1' });
    expect(enriched(driver).readKeyValues()).to.deep.equal([['pen', 'pen for Ada']]);
  });
});

describe('global tables in the compiled topology', () => {
  const serdes = { keySerde: Serdes.string(), valueSerde: Serdes.json() };
  const build = (topology: (b: StreamsBuilder) => void) => {
    const builder = new StreamsBuilder();
    topology(builder);
    return builder.build();
  };

  it('keeps global stores out of the sub-topologies, unshared and not co-partitioned, and describes them apart', () => {
    const compiled = compile(
      build((b) => enrich(b, false)),
      { applicationId: 'shop', ...serdes },
    );
    expect(compiled.subtopologies).to.have.length(1);
    expect(compiled.subtopologies[0]!.sourceTopics).to.deep.equal(['orders']);
    expect(compiled.subtopologies[0]!.copartitioned).to.equal(false);
    expect(compiled.stores).to.deep.equal([]);
    expect(compiled.globalStores.map((g) => [g.name, g.changelogTopic, g.readBy, g.onError])).to.deep.equal([['customers', 'customers', ['enrich'], 'fail']]);
    expect(compiled.externalSourceTopics).to.have.members(['orders', 'customers']);
    const json = describeJson(compiled);
    expect(json.globalStores).to.deep.equal([{ name: 'customers', topic: 'customers', readBy: ['enrich'] }]);
    expect(json.subtopologies[0]!.nodes.find((n) => n.name === 'enrich')!.stores).to.deep.equal([]);
    const text = describeText(compiled);
    expect(text).to.contain('Global stores').and.to.contain('customers (topic: customers, read by: [enrich])');
    expect(text).to.contain('Processor: enrich (join; stores: []; global stores: [customers])');
    expect(describeMermaid(compiled)).to.contain('topic_customers --> global_store_customers').and.to.contain('global_store_customers -.-> enrich');
  });

  it('refuses a global topic also read by a stream, two global tables over one topic, and a dead-letter default', () => {
    const shared = build((b) => {
      b.globalTable('customers', { name: 'customers' });
      b.stream('customers').to('out');
    });
    expect(() => compile(shared, { applicationId: 'x', ...serdes })).to.throw(TopologyError, 'a global table reads its topic alone');
    const twice = build((b) => {
      b.globalTable('customers', { name: 'a' });
      b.globalTable('customers', { name: 'b' });
      b.stream('orders').to('out');
    });
    expect(() => compile(twice, { applicationId: 'x', ...serdes })).to.throw(TopologyError, 'already read by global table "a"');
    const deadLetters = build((b) => enrich(b, false));
    expect(() => compile(deadLetters, { applicationId: 'x', ...serdes, onDeserializationError: { deadLetterTopic: 'dead' } })).to.throw(TopologyError, 'onDeserializationError "fail" or "log-and-continue"');
    expect(() => build((b) => b.globalTable('customers', { name: 'c', onDeserializationError: { deadLetterTopic: 'dead' } as never }))).to.throw(TopologyError, 'dead-letter');
  });

  it('refuses a global table of another builder, and a store name already used', () => {
    const other = new StreamsBuilder().globalTable<string, Customer>('customers', { name: 'customers' });
    expect(() =>
      build((b) =>
        b
          .stream<string, Order>('orders')
          .join(other, (_, o) => o.customer, (o) => o.item)
          .to('out'),
      ),
    ).to.throw(TopologyError, 'same builder');
    expect(() =>
      build((b) => {
        b.table('users', { name: 'customers' });
        b.globalTable('customers', { name: 'customers' });
      }),
    ).to.throw(TopologyError, 'already used');
  });

  it('types the key selector and the joiner by the global table (a mistake does not compile)', () => {
    const builder = new StreamsBuilder();
    const customers: GlobalTable<string, Customer> = builder.globalTable<string, Customer>('customers', { name: 'customers' });
    const orders: Stream<string, Order> = builder.stream<string, Order>('orders');
    const joined: Stream<string, string> = orders.join(customers, (_, o) => o.customer, (o, c) => `${o.item} for ${c.name}`);
    const left: Stream<string, string> = orders.leftJoin(customers, (_, o) => o.customer, (o, c) => `${o.item} for ${c?.name}`);
    // @ts-expect-error a customer has no `age`
    orders.join(customers, (_, o) => o.customer, (o, c) => c.age);
    // @ts-expect-error the lookup key must be the global table's key type
    orders.join(customers, (_, o) => o.item.length, (o, c) => c.name);
    // @ts-expect-error a left join's row may be null
    orders.leftJoin(customers, (_, o) => o.customer, (o, c) => c.name);
    expect([joined.node, left.node]).to.have.length(2);
  });
});
