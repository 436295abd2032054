// The extension seam: an operator from outside the DSL, applied with `stream.via`, records what
// the DSL's own operators record (stores, processors, the children they route to, query routes)
// through its OperatorScope, and the compiler checks and resolves it all.
import { expect } from 'chai';
import type { OperatorScope, Stream, StreamOperator } from '../../engine/dsl/api.ts';
import { StreamsBuilder } from '../../engine/dsl/builder.ts';
import { TopologyError } from '../../engine/errors.ts';
import type { RouteSpec } from '../../engine/iq/routes.ts';
import { passthrough } from '../../engine/processors/passthrough.ts';
import { untyped, type ProcessorSupplier } from '../../engine/processors/processor.ts';
import { Serdes, type Serde } from '../../engine/serde/serde.ts';
import { compile } from '../../engine/topology/compile.ts';
import { TestDriver } from '../../engine/testing/test-driver.ts';

const KEY = Symbol('counting: the route');

/** Counts records per key in a store of its own, routes keys seen before to `repeats`, and adds one route per topology. */
function countKeys(options: { name: string; store: string; feedback?: Stream<string, string> }): StreamOperator<string, string, { firsts: Stream<string, string>; repeats: Stream<string, string> }> {
  return (stream, scope: OperatorScope<string, string>) => {
    const name = scope.name('KSTREAM-COUNTKEYS', options.name);
    scope.addStore({ name: options.store, keySerde: Serdes.string() as Serde<unknown>, valueSerde: Serdes.json<number>() as Serde<unknown>, partitionedByKey: true }, name);
    const route = scope.shared(KEY, () => {
      const created: RouteSpec & { writesTo: Record<string, string> } = { method: 'POST', path: '/v1/counting/:store', writesTo: {}, handle: async () => ({ status: 204, body: null }) };
      scope.addRoute(created);
      return created;
    });
    const feedback = options.feedback?.node;
    if (feedback !== undefined && scope.isSource(feedback)) route.writesTo[options.store] = feedback;
    const node = scope.addProcessor({ name, operator: 'countKeys', parents: feedback === undefined ? [stream.node] : [stream.node, feedback], supplier: passthrough, stores: [options.store] });
    const routes = { firsts: scope.branch(name, 'firsts'), repeats: scope.branch(name, 'repeats') };
    const counting: ProcessorSupplier<string, string, string, string> = ({ stores, children, context }) => {
      const counts = stores.get<string, number>(options.store);
      const [firsts, repeats] = [children.get(routes.firsts)!, children.get(routes.repeats)!];
      return (key, value) => {
        const seen = counts.get(key) ?? 0;
        counts.put(key, seen + 1, { timestamp: context.timestamp, headers: context.headers });
        (seen === 0 ? firsts : repeats)(key, value);
      };
    };
    node.supplier = untyped(counting);
    return { firsts: scope.stream<string, string>(routes.firsts, scope.serdes), repeats: scope.stream<string, string>(routes.repeats, scope.serdes) };
  };
}

const serdes = { keySerde: Serdes.string(), valueSerde: Serdes.string() };

describe('stream.via: operators from outside the DSL', () => {
  it('records the stores, nodes and routes an operator adds, and the compiler resolves the topics its routes write to', () => {
    const builder = new StreamsBuilder();
    const feedback = builder.stream<string, string>('feedback', { name: 'feedback' });
    const words = builder.stream<string, string>('words', { name: 'words' });
    const { firsts, repeats } = words.via(countKeys({ name: 'count', store: 'word-counts', feedback }));
    firsts.to('first-words');
    repeats.to('repeated-words');
    const several = builder.stream<string, string>(['a', 'b'], { name: 'several' });
    several.via(countKeys({ name: 'count-several', store: 'several-counts', feedback: several }));

    const compiled = compile(builder.build(), { applicationId: 'app', ...serdes });
    const nodes = compiled.subtopologies.flatMap((s) => s.nodes);
    expect(nodes.find((n) => n.name === 'count')).to.include({ operator: 'countKeys' }).and.to.have.property('parents').that.deep.equals(['words', 'feedback']);
    expect(nodes.find((n) => n.name === 'count')!.children).to.deep.equal(['count-firsts', 'count-repeats']);
    expect(compiled.stores.map((s) => [s.name, s.changelogTopic, s.partitionedByKey])).to.deep.equal([
      ['word-counts', 'app-word-counts-changelog', true],
      ['several-counts', 'app-several-counts-changelog', true],
    ]);
    // One route for the topology; a store fed by a source of one topic has a target, one of several topics none.
    expect(compiled.routes).to.have.length(1);
    const [route] = compiled.routes;
    expect([route!.method, route!.path]).to.deep.equal(['POST', '/v1/counting/:store']);
    expect([...route!.targets.keys()]).to.deep.equal(['word-counts']);
    expect(route!.targets.get('word-counts')).to.include({ topic: 'feedback', keySerde: serdes.keySerde, valueSerde: serdes.valueSerde });
  });

  it('keeps what an extension shares per topology, and refuses two operators adding the same route', () => {
    const twice = (path: string): StreamOperator<string, string, void> => (stream, scope) => {
      scope.addRoute({ method: 'GET', path, writesTo: {}, handle: async () => ({ status: 200, body: {} }) });
      stream.to('out');
    };
    const builder = new StreamsBuilder();
    const words = builder.stream<string, string>('words', { name: 'words' });
    words.via(twice('/v1/same'));
    words.via(twice('/v1/same'));
    expect(() => compile(builder.build(), { applicationId: 'app', ...serdes })).to.throw(TopologyError, /two operators add the query route GET \/v1\/same/);

    const shared: object[] = [];
    const remember: StreamOperator<string, string, void> = (_, scope) => void shared.push(scope.shared(KEY, () => ({})));
    const first = new StreamsBuilder().stream<string, string>('in');
    first.via(remember);
    first.via(remember);
    new StreamsBuilder().stream<string, string>('in').via(remember);
    expect(shared[0]).to.equal(shared[1]);
    expect(shared[2]).to.not.equal(shared[0]);
  });

  it('runs what it built like any operator (TestDriver)', async () => {
    const driver = await TestDriver.create(
      (builder) => {
        const { firsts, repeats } = builder.stream<string, string>('words').via(countKeys({ name: 'count', store: 'word-counts' }));
        firsts.to('first-words');
        repeats.to('repeated-words');
      },
      { settings: { applicationId: 'via', ...serdes } },
    );
    try {
      await driver.inputTopic<string, string>('words').pipeMany([['a', 'x'], ['b', 'y'], ['a', 'z']]);
      expect(driver.outputTopic<string, string>('first-words').readKeyValues()).to.deep.equal([['a', 'x'], ['b', 'y']]);
      expect(driver.outputTopic<string, string>('repeated-words').readKeyValues()).to.deep.equal([['a', 'z']]);
      expect(driver.store<string, number>('word-counts').get('a')).to.equal(2);
    } finally {
      await driver.close();
    }
  });
});
