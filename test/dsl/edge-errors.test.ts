// What a topology file in plain JavaScript can get wrong at the DSL's edges fails as a SluiceError
// with a stable code, naming the operator: a TopologyError (SLUICE_TOPOLOGY) when the topology is
// built, and an InvalidRecordError (SLUICE_INVALID_RECORD) for a record an operator cannot use.
import { expect } from 'chai';
import { StreamsBuilder } from '../../engine/dsl/builder.ts';
import { Topology } from '../../engine/dsl/topology.ts';
import { InvalidRecordError, SluiceError, TopologyError } from '../../engine/errors.ts';
import { headerValue } from '../../engine/processors/processor.ts';
import { DeadLetterHeaders } from '../../engine/runtime/record-errors.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { toPostgres } from '../../engine/sinks/postgres/postgres-sink.ts';
import { TestDriver } from '../../engine/testing/test-driver.ts';

/** The error `build` throws, checked to be a TopologyError naming `operator` for `reason`. */
function expectTopologyError(build: () => unknown, operator: string | undefined, reason: RegExp): void {
  let error: unknown;
  try {
    build();
  } catch (err) {
    error = err;
  }
  expect(error, 'a TopologyError').to.be.instanceOf(TopologyError);
  expect((error as TopologyError).code).to.equal('SLUICE_TOPOLOGY');
  expect((error as TopologyError).operator).to.equal(operator);
  expect((error as Error).message).to.match(reason);
}

/** A JavaScript caller: any argument goes. */
const js = (value: unknown): never => value as never;

describe('errors at the edges of the DSL', () => {
  const events = () => new StreamsBuilder().stream<string, { id: string }>('events', { name: 'events' });

  it('refuses a second split branch of the same name', () => {
    const splitter = events().split({ name: 'check' }).branch('valid', () => true);
    expectTopologyError(() => splitter.branch('valid', () => false), 'check', /already has a branch "valid"/);
  });

  it('refuses callbacks that are not functions when the topology is built, naming the operator and the callback', () => {
    expectTopologyError(() => events().filter(js(undefined), { name: 'keep' }), 'keep', /predicate must be a function; got undefined/);
    expectTopologyError(() => events().mapValues(js('upper'), { name: 'upper' }), 'upper', /mapper must be a function; got "upper"/);
    expectTopologyError(() => events().selectKey(js(null), { name: 'rekey' }), 'rekey', /key selector must be a function/);
    expectTopologyError(() => events().process(js({}), { name: 'custom' }), 'custom', /processor supplier must be a function; got an object/);
    expectTopologyError(() => events().dedupe({ name: 'dedupe', store: 'seen', ttlMs: 1_000, id: js('id') }), 'dedupe', /id function must be a function/);
    expectTopologyError(() => events().split({ name: 'check' }).branch('valid', js(true)), 'check-valid', /predicate must be a function/);
    expectTopologyError(() => events().groupByKey().aggregate(js(0), (_, __, n: number) => n, { name: 'totals' }), 'KSTREAM-AGGREGATE-0000000002', /initializer must be a function/);
    const table = new StreamsBuilder().table('profiles', { name: 'profiles' });
    expectTopologyError(() => table.mapValues(js(undefined), { name: 'names' }), 'names', /mapper must be a function/);
    expectTopologyError(() => new Topology().addSource('in', 'events').addProcessor('p', js(undefined), 'in'), 'p', /processor supplier must be a function/);
  });

  it('refuses sources, sinks and stores given nothing, or the wrong thing, instead of failing with a TypeError', () => {
    expectTopologyError(() => new StreamsBuilder().stream(js(undefined), { name: 'in' }), 'in', /topic name or a list of topic names; got undefined/);
    expectTopologyError(() => new StreamsBuilder().stream([], { name: 'in' }), 'in', /got an array/);
    expectTopologyError(() => events().to(js(undefined), { name: 'out' }), 'out', /a sink writes to a topic name/);
    expectTopologyError(() => new Topology().addSource('in', 'events').addSink('out', js(42), {}, 'in'), 'out', /got 42/);
    expectTopologyError(() => new StreamsBuilder().table('profiles', js(undefined)), 'KTABLE-MATERIALIZE-0000000002', /needs a store name/);
    expectTopologyError(() => events().groupByKey().count(js(undefined)), 'KSTREAM-AGGREGATE-0000000002', /needs a store name/);
    expectTopologyError(() => new StreamsBuilder().addStateStore(js(undefined)), 'addStateStore', /needs a store/);
  });

  it('reports a sink whose settings are wrong as a TopologyError naming it', () => {
    expectTopologyError(() => events().sink(toPostgres({ write: async () => {}, offsetsTable: 'positions; drop table x' }), { name: 'rows' }), 'rows', /offsetsTable: .* is not a valid table name/);
    expectTopologyError(() => events().sink(toPostgres({ write: js(undefined) }), { name: 'rows' }), 'rows', /toPostgres needs a write\(tx, key, value\) function/);
    expectTopologyError(() => events().sink(toPostgres({ write: async () => {}, maxPending: 0 }), { name: 'rows' }), 'rows', /maxPending must be a positive integer/);
    expectTopologyError(() => events().sink(js({ open: () => undefined }), { name: 'rows' }), 'rows', /sink\(\) takes a Sink/);
    expectTopologyError(() => events().via(js('detectConflicts')), 'events', /via\(\) takes an operator/);
  });

  it('fails a record an operator cannot use with an InvalidRecordError, which its error handling routes', async () => {
    const driver = await TestDriver.create(
      (builder) =>
        builder
          .stream<string, { id?: string }>('events', { key: Serdes.string(), value: Serdes.json() })
          .dedupe({ name: 'dedupe', store: 'seen', ttlMs: 60_000, id: (_, e) => e.id as string, onError: { deadLetterTopic: 'events-dlq' } })
          .to('unique', { value: Serdes.json() }),
    );
    try {
      await driver.inputTopic<string, { id?: string }>('events').pipe('k', {});
      const [dead] = driver.outputTopic('events-dlq').readRaw();
      expect(headerValue(dead!.headers, DeadLetterHeaders.errorClass)).to.equal('InvalidRecordError');
      expect(headerValue(dead!.headers, DeadLetterHeaders.errorMessage)).to.match(/Operator "dedupe": the record has no id/);
      const error = new InvalidRecordError('dedupe', 'the record has no id');
      expect(error).to.be.instanceOf(SluiceError);
      expect(error.code).to.equal('SLUICE_INVALID_RECORD');
    } finally {
      await driver.close();
    }
  });
});
