import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import analytics from '../../topologies/event-analytics.ts';
import { readSchemaFile } from '../../engine/serde/avro/avro-serde.ts';
import avroMedia from '../fixtures/topologies/avro-media.ts';
import { DeadLetterHeaders, defineApplication, headerValue, ProcessingError, Serdes, TestDriver, TopologyError, IllegalStateError, type Batch } from 'sluice';
import { driverStarter } from '../helpers/drivers.ts';

const orders = (topology: Parameters<typeof defineApplication>[0]['topology'], extra: Partial<Parameters<typeof defineApplication>[0]> = {}) =>
  defineApplication({ applicationId: 'driver-test', keySerde: Serdes.string(), valueSerde: Serdes.json(), topology, ...extra });

describe('TestDriver: a topology in process, without a broker', () => {
  const start = driverStarter();

  it('runs stateless operators record by record, keeping timestamps and headers', async () => {
    const driver = await start(
      orders((b) =>
        b
          .stream<string, { amount: number }>('orders')
          .filter((_, o) => o.amount > 0)
          .mapValues((o) => ({ amount: o.amount, doubled: o.amount * 2 }))
          .to('doubled'),
      ),
    );
    const input = driver.inputTopic<string, { amount: number }>('orders');
    await input.pipe('a', { amount: 2 }, { timestamp: 1_000, headers: [{ correlation_id: 'c-1' }] });
    await input.pipe('b', { amount: -1 }, { timestamp: 2_000 });
    await input.pipe('c', { amount: 5 }, { timestamp: 3_000 });
    const out = driver.outputTopic<string, { amount: number; doubled: number }>('doubled');
    const records = out.readRecords();
    expect(records.map((r) => [r.key, r.value, r.timestamp])).to.deep.equal([
      ['a', { amount: 2, doubled: 4 }, 1_000],
      ['c', { amount: 5, doubled: 10 }, 3_000],
    ]);
    expect(headerValue(records[0]!.headers, 'correlation_id')).to.equal('c-1');
    expect(out.isEmpty, 'reads move past what they returned').to.equal(true);
    await input.pipe('d', { amount: 1 });
    expect(out.readKeyValues()).to.deep.equal([['d', { amount: 1, doubled: 2 }]]);
  });

  it('runs a repartition and an aggregation, with the store readable and its changelog written', async () => {
    const driver = await start(
      orders((b) =>
        b
          .stream<string, { customer: string; amount: number }>('orders')
          .groupBy((_, o) => o.customer)
          .aggregate(() => ({ orders: 0, total: 0 }), (_, o, agg) => ({ orders: agg.orders + 1, total: agg.total + o.amount }), { name: 'totals' })
          .toStream()
          .to('totals'),
      ),
    );
    const input = driver.inputTopic<string, { customer: string; amount: number }>('orders');
    await input.pipeMany([
      ['o1', { customer: 'ann', amount: 10 }],
      ['o2', { customer: 'bob', amount: 1 }],
      ['o3', { customer: 'ann', amount: 5 }],
    ]);
    // One commit for the three: the cache passes each customer's latest total on once, in the
    // order of their last changes (bob's before ann's second).
    expect([...driver.outputTopic<string, { orders: number; total: number }>('totals').readKeyValuesToMap()]).to.deep.equal([
      ['bob', { orders: 1, total: 1 }],
      ['ann', { orders: 2, total: 15 }],
    ]);
    await input.pipe('o4', { customer: 'bob', amount: 4 });
    const totals = driver.store<string, { orders: number; total: number }>('totals');
    expect(totals.get('bob')).to.deep.equal({ orders: 2, total: 5 });
    expect(totals.get('nobody')).to.equal(undefined);
    expect(await totals.all()).to.deep.equal([
      ['ann', { orders: 2, total: 15 }],
      ['bob', { orders: 2, total: 5 }],
    ]);
    const internal = driver.topology.internalTopics.map((t) => t.name);
    expect(internal).to.include('driver-test-totals-repartition');
    const changelog = driver.outputTopic<string, { orders: number; total: number }>('driver-test-totals-changelog').readKeyValuesToMap();
    expect(changelog.get('bob')).to.deep.equal({ orders: 2, total: 5 });
  });

  it('sends a poison record to the dead-letter topic with its original bytes, and stops on one with "fail"', async () => {
    const driver = await start(orders((b) => b.stream<string, { amount: number }>('orders').mapValues((o) => o.amount).to('amounts'), { onDeserializationError: { deadLetterTopic: 'orders-dlq' } }));
    const input = driver.inputTopic<string, { amount: number }>('orders');
    await input.pipeRaw(Buffer.from('k1'), Buffer.from('{not json'));
    await input.pipe('k2', { amount: 3 });
    expect(driver.outputTopic<string, number>('amounts').readKeyValues()).to.deep.equal([['k2', 3]]);
    const [dead] = driver.outputTopic('orders-dlq').readRaw();
    expect(dead!.value!.toString()).to.equal('{not json');
    expect(headerValue(dead!.headers, DeadLetterHeaders.topic)).to.equal('orders');
    expect(headerValue(dead!.headers, DeadLetterHeaders.offset)).to.equal('0');

    const failing = await start(
      orders((b) =>
        b
          .stream<string, { amount: number }>('orders')
          .mapValues((o) => {
            if (o.amount < 0) throw new Error('negative amount');
            return o.amount;
          }, { name: 'check' })
          .to('amounts'),
      ),
    );
    const error = await failing.inputTopic<string, { amount: number }>('orders').pipe('k', { amount: -1 }).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ProcessingError);
    expect((error as ProcessingError).operator).to.equal('check');
    const after = await failing.inputTopic<string, { amount: number }>('orders').pipe('k', { amount: 1 }).then(() => undefined, (e: unknown) => e);
    expect(after, 'the application would have stopped').to.be.instanceOf(IllegalStateError);
    expect((after as Error).message).to.match(/stopped processing after an error/);
  });

  it('drives wall-clock time: a batch lingers until the clock moves past its linger', async () => {
    const driver = await start(orders((b) => b.stream<string, string>('items', { value: Serdes.string() }).batch({ name: 'batch', store: 'pending', maxSize: 10, lingerMs: 1_000 }).to('batches')), { startTimeMs: 50_000 });
    const input = driver.inputTopic<string, string>('items');
    await input.pipeMany([
      ['a', 'x'],
      ['b', 'y'],
      ['c', 'z'],
    ]);
    const batches = driver.outputTopic<string, Batch<string, string>>('batches');
    expect(batches.size, 'the open batch is held').to.equal(0);
    expect((await driver.store('pending').all()).length, 'held records are in the store').to.equal(3);
    await driver.advanceWallClockTime(999);
    expect(batches.size).to.equal(0);
    await driver.advanceWallClockTime(1);
    const [batch] = batches.readValues();
    expect(batch!.records.map((r) => r.value)).to.deep.equal(['x', 'y', 'z']);
    expect(batch!.reason).to.equal('linger');
    expect(batch!.records[0]!.timestamp, 'records default to the driver clock').to.equal(50_000);
    expect(await driver.store('pending').all()).to.deep.equal([]);
    expect(driver.wallClockTime).to.equal(51_000);
  });

  it('runs a topology file as deployed: topologies/event-analytics.ts counts by type through its repartition', async () => {
    const driver = await start(analytics);
    const events = driver.inputTopic<string, Buffer>('events');
    const event = (user: string, type: string) =>
      Buffer.from(JSON.stringify({ event_id: randomUUID(), event_type: type, aggregate_type: 'user', aggregate_id: user, version: 1, timestamp: '2026-12-03T12:00:00Z', correlation_id: randomUUID(), causation_id: null, data: {} }));
    await events.pipe('user-1', event('user-1', 'PageViewed'));
    await events.pipe('user-2', event('user-2', 'PageViewed'));
    await events.pipe('user-2', event('user-2', 'SignedUp'));
    await events.pipe('user-3', Buffer.from('{"event_type": "PageViewed"}'));
    const counts = driver.store<string, number>('event-counts');
    expect(await counts.all()).to.deep.equal([
      ['PageViewed', 2],
      ['SignedUp', 1],
    ]);
    const [dead] = driver.outputTopic('events-dead-letter').readRaw();
    expect(dead!.value!.toString()).to.equal('{"event_type": "PageViewed"}');
    expect(headerValue(dead!.headers, DeadLetterHeaders.errorMessage)).to.match(/event_id must be a UUID/);
  });

  it('reads, writes and stores Avro with the serdes of the topology (the schema registry of the test set-up, or the in-process one)', async () => {
    const driver = await start(avroMedia, { settings: { applicationId: `avro-driver-${randomUUID().slice(0, 8)}` } });
    const type = avro.Type.forSchema(readSchemaFile('media-event.avsc'));
    const types = ['MediaItemCreated', 'AnalysisStarted', 'AnalysisStarted'];
    const events = types.map((event_type, i) => ({ ...(type.random() as unknown as Record<string, unknown>), aggregate_id: `media-${i}`, event_type, version: i + 1 }));
    await driver.inputTopic<string, Record<string, unknown>>('avro-media-events').pipeMany(events.map((e) => [e.aggregate_id as string, e]));
    const seen = driver.outputTopic('avro-media-seen').readRaw();
    expect(seen.map((r) => r.value![0]), 'Confluent wire format: magic byte').to.deep.equal([0, 0, 0]);
    expect(driver.outputTopic<string, { media_id: string; event_type: string; version: number }>('avro-media-seen').readValues().map((v) => ({ ...v }))).to.deep.equal(
      events.map((e) => ({ media_id: e.aggregate_id, event_type: e.event_type, version: e.version })),
    );
    expect(await driver.store<string, number>('avro-event-counts').all()).to.deep.equal([
      ['AnalysisStarted', 2],
      ['MediaItemCreated', 1],
    ]);
  });

  it('names what it knows when asked for an unknown topic or store, and refuses work once closed', async () => {
    const driver = await TestDriver.create(orders((b) => b.stream('orders').groupByKey().count({ name: 'counts' }).toStream().to('counted')));
    expect(() => driver.inputTopic('nope')).to.throw(TopologyError, /reads no topic "nope"; it reads "orders"/);
    expect(() => driver.store('nope')).to.throw(TopologyError, /no store "nope"; it has "counts"/);
    await driver.inputTopic('orders').pipe('k', { any: 1 });
    expect(driver.store<string, number>('counts').get('k')).to.equal(1);
    await driver.close();
    await driver.close();
    const refused = await driver.inputTopic('orders').pipe('k', {}).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(IllegalStateError);
  });
});
