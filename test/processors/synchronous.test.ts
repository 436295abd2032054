// Every operator refuses a callback that returns a promise, at run time (what an untyped
// topology file can pass; TypeScript refuses them, see test/dsl/types.test.ts): the record goes
// to the operator's error handling as an AsyncCallbackError, nothing is written downstream, and
// the promise's rejection never becomes an unhandled one. Under the TestDriver: no broker.
import { expect } from 'chai';
import type { StreamsBuilder } from '../../engine/dsl/builder.ts';
import type { Stream, Table } from '../../engine/dsl/api.ts';
import { Topology } from '../../engine/dsl/topology.ts';
import { ProcessingError, SerdeError, SluiceError } from '../../engine/errors.ts';
import { headerValue, type ProcessorSupplier } from '../../engine/processors/processor.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { DeadLetterHeaders } from '../../engine/runtime/record-errors.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { TestDriver } from '../../engine/testing/test-driver.ts';

type Order = { id: string; version: number; total: number };

/** An async callback that fails, typed as any callback: what a JavaScript topology passes. */
const rejecting = <F>() =>
  (async () => {
    await Promise.resolve();
    throw new Error('the async work failed');
  }) as unknown as F;

/** A custom processor whose per-record function is that async callback. */
const rejectingProcessor = (() => rejecting()) as ProcessorSupplier;

/** Each operator with an async callback, after `in`, ending in the topic `out`, and the callback the error names. */
const cases: Array<[operator: string, callback: string, build: (orders: Stream<string, Order>) => void]> = [
  ['filter', 'predicate', (s) => s.filter(rejecting(), { name: 'op' }).to('out')],
  ['filterNot', 'predicate', (s) => s.filterNot(rejecting(), { name: 'op' }).to('out')],
  ['map', 'mapper', (s) => s.map(rejecting(), { name: 'op' }).to('out')],
  ['mapValues', 'mapper', (s) => s.mapValues(rejecting(), { name: 'op' }).to('out')],
  ['flatMap', 'mapper', (s) => s.flatMap(rejecting(), { name: 'op' }).to('out')],
  ['flatMapValues', 'mapper', (s) => s.flatMapValues(rejecting(), { name: 'op' }).to('out')],
  ['selectKey', 'key selector', (s) => s.selectKey(rejecting(), { name: 'op' }).to('out')],
  ['peek', 'action', (s) => s.peek(rejecting(), { name: 'op' }).to('out')],
  ['withHeaders', 'header function', (s) => s.withHeaders(rejecting(), { name: 'op' }).to('out')],
  ['process', 'per-record function', (s) => s.process(rejectingProcessor, { name: 'op' }).to('out')],
  ['split', 'branch predicate', (s) => s.split({ name: 'op' }).branch('first', rejecting()).defaultBranch('rest').rest.to('out')],
  ['to', 'topic chooser', (s) => s.to(rejecting(), { name: 'op' })],
  ['dedupe', 'id function', (s) => s.dedupe({ name: 'op', store: 'seen', ttlMs: 60_000, id: rejecting() }).to('out')],
  ['versionGate', 'version function', (s) => s.versionGate({ name: 'op', store: 'versions', version: rejecting() }).to('out')],
  ['project', 'apply function', (s) => s.project({ name: 'op', store: 'views', apply: rejecting() }).toStream().to('out')],
  ['prioritize', 'priority function', (s) => s.prioritize({ name: 'op', store: 'held', maxBuffered: 10, windowMs: 1_000, priority: rejecting() }).to('out')],
  ['batch', 'id function', (s) => s.batch({ name: 'op', store: 'pending', maxSize: 10, lingerMs: 1_000, id: rejecting(), dependsOn: () => [], releasedTtlMs: 60_000 }).to('out')],
  ['groupBy', 'key selector', (s) => s.groupBy(rejecting(), { name: 'op', key: Serdes.string() }).count({ name: 'counts' }).toStream().to('out')],
  ['aggregate', 'aggregator', (s) => s.groupByKey().aggregate(() => 0, rejecting(), { name: 'totals', caching: false }).toStream().to('out')],
  ['aggregate', 'initializer', (s) => s.groupByKey().aggregate(rejecting(), (_, __, n: number) => n, { name: 'totals', caching: false }).toStream().to('out')],
];

describe('callbacks that return a promise, operator by operator (TestDriver)', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  const drivers: TestDriver[] = [];
  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => process.off('unhandledRejection', onUnhandled));
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.close().catch(() => undefined);
  });

  const start = async (topology: (builder: StreamsBuilder) => void) => {
    const driver = await TestDriver.create(defineApplication({ applicationId: 'async', keySerde: Serdes.string(), valueSerde: Serdes.json(), onProcessingError: { deadLetterTopic: 'dlq' }, topology }));
    drivers.push(driver);
    return driver;
  };

  /** Lets the rejected promises settle: an unhandled rejection is reported after them. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

  for (const [operator, callback, build] of cases) {
    it(`${operator}: its ${callback}`, async () => {
      const driver = await start((builder) => build(builder.stream<string, Order>('in', { name: 'in' })));
      await driver.inputTopic<string, Order>('in').pipe('o-1', { id: 'o-1', version: 1, total: 5 });
      await settle();
      const [dead, ...more] = driver.outputTopic('dlq').readRaw();
      expect(more).to.deep.equal([]);
      expect(dead, 'dead-lettered').to.not.equal(undefined);
      expect(dead!.value!.toString()).to.equal(JSON.stringify({ id: 'o-1', version: 1, total: 5 }));
      expect(headerValue(dead!.headers, DeadLetterHeaders.errorClass)).to.equal('AsyncCallbackError');
      expect(headerValue(dead!.headers, DeadLetterHeaders.errorMessage)).to.contain(`its ${callback} returned a promise`);
      expect(driver.outputTopic('out').readRaw()).to.deep.equal([]);
      expect(unhandled).to.deep.equal([]);
    });
  }

  it('reduce: its reducer (called from the second value of a key on)', async () => {
    const driver = await start((builder) => builder.stream<string, Order>('in', { name: 'in' }).groupByKey().reduce(rejecting(), { name: 'latest', caching: false }).toStream().to('out'));
    const input = driver.inputTopic<string, Order>('in');
    await input.pipe('o-1', { id: 'o-1', version: 1, total: 5 });
    await input.pipe('o-1', { id: 'o-1', version: 2, total: 7 });
    await settle();
    const dead = driver.outputTopic('dlq').readRaw();
    expect(dead.map((r) => [r.value!.toString(), headerValue(r.headers, DeadLetterHeaders.errorMessage)?.includes('its reducer returned a promise')])).to.deep.equal([
      [JSON.stringify({ id: 'o-1', version: 2, total: 7 }), true],
    ]);
    expect(driver.outputTopic<string, Order>('out').readValues()).to.deep.equal([{ id: 'o-1', version: 1, total: 5 }]);
    expect(unhandled).to.deep.equal([]);
  });

  it('table filter and mapValues: their predicate and mapper', async () => {
    for (const [op, build] of [
      ['filter', (t: Table<string, Order>) => t.filter(rejecting(), { name: 'op' })],
      ['mapValues', (t: Table<string, Order>) => t.mapValues(rejecting(), { name: 'op' })],
    ] as const) {
      const driver = await start((builder) => build(builder.table<string, Order>('in', { name: 'orders', caching: false })).toStream().to('out'));
      await driver.inputTopic<string, Order>('in').pipe('o-1', { id: 'o-1', version: 1, total: 5 });
      await settle();
      const dead = driver.outputTopic('dlq').readRaw();
      expect(dead.map((r) => headerValue(r.headers, DeadLetterHeaders.errorClass)), op).to.deep.equal(['AsyncCallbackError']);
      expect(driver.outputTopic('out').readRaw(), op).to.deep.equal([]);
    }
    expect(unhandled).to.deep.equal([]);
  });

  it('the Processor API: a per-record function that returns a promise, and a factory that does', async () => {
    const asyncRecord = new Topology()
      .addSource('in', 'in', { key: Serdes.string(), value: Serdes.json() })
      .addProcessor('op', rejectingProcessor, 'in')
      .addSink('out', 'out', {}, 'op');
    const settings = { keySerde: Serdes.string(), valueSerde: Serdes.json(), onProcessingError: { deadLetterTopic: 'dlq' } };
    const driver = await TestDriver.create(asyncRecord, { settings });
    drivers.push(driver);
    await driver.inputTopic<string, Order>('in').pipe('o-1', { id: 'o-1', version: 1, total: 5 });
    expect(driver.outputTopic('dlq').readRaw().map((r) => headerValue(r.headers, DeadLetterHeaders.errorMessage))).to.satisfy((m: string[]) => m.length === 1 && m[0]!.includes('its per-record function returned a promise'));

    const asyncFactory = new Topology().addSource('in', 'in').addProcessor('op', (async () => () => undefined) as unknown as ProcessorSupplier, 'in').addSink('out', 'out', {}, 'op');
    let error: unknown;
    await TestDriver.create(asyncFactory, { settings }).then((d) => drivers.push(d), (err: unknown) => (error = err));
    expect(String(error)).to.contain('Operator "op": the processor\'s factory must return its per-record function');
    expect(String(error)).to.contain('it returned a promise');
    await settle();
    expect(unhandled).to.deep.equal([]);
  });

  it('under fail, stops with a ProcessingError whose cause is the AsyncCallbackError', async () => {
    const driver = await TestDriver.create((builder) => builder.stream<string, Order>('in', { key: Serdes.string(), value: Serdes.json() }).mapValues(rejecting(), { name: 'op' }).to('out', { value: Serdes.json() }));
    drivers.push(driver);
    const failure = await driver
      .inputTopic<string, Order>('in')
      .pipe('o-1', { id: 'o-1', version: 1, total: 5 })
      .then(() => undefined, (err: unknown) => err);
    expect(failure).to.be.instanceOf(ProcessingError);
    const cause = (failure as ProcessingError).cause as SluiceError & { operator: string };
    expect(cause).to.be.instanceOf(SluiceError);
    expect([cause.name, cause.code, cause.operator]).to.deep.equal(['AsyncCallbackError', 'SLUICE_ASYNC_CALLBACK', 'op']);
    // The message points to the async operator that does what the callback meant.
    expect((failure as Error).message).to.contain('For asynchronous work use mapValuesAsync').and.contain('docs/async.md');
  });

  it('the JSON serde refuses to write a promise, which it would write as {}', () => {
    const json = Serdes.json<unknown>();
    const pending = Promise.reject(new Error('never awaited'));
    pending.catch(() => undefined);
    expect(() => json.serialize(pending, 'out')).to.throw(SerdeError, /was given a promise to write/);
    expect(json.serialize({ then: 'not a function' }, 'out')!.toString()).to.equal('{"then":"not a function"}');
  });
});
