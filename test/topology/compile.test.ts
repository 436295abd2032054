import { expect } from 'chai';
import { StreamsBuilder } from '../../engine/dsl/builder.ts';
import { Topology } from '../../engine/dsl/topology.ts';
import { TopologyError } from '../../engine/errors.ts';
import { passthrough } from '../../engine/processors/passthrough.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { compile } from '../../engine/topology/compile.ts';
import { describeJson, describeMermaid, describeText } from '../../engine/topology/describe.ts';

const serdes = { keySerde: Serdes.string(), valueSerde: Serdes.json() };

function orders(builder = new StreamsBuilder()) {
  builder
    .stream<string, { user: string; total: number }>('orders')
    .filter((_, o) => o.total > 0, { name: 'positive' })
    .selectKey((_, o) => o.user, { name: 'by-user' })
    .repartition({ name: 'orders-by-user' })
    .mapValues((o) => o.total, { name: 'total' })
    .to('totals', { value: Serdes.number() });
  return builder.build();
}

function expectTopologyError(build: () => unknown, operator: string | undefined, reason: RegExp): void {
  let error: unknown;
  try {
    build();
  } catch (err) {
    error = err;
  }
  expect(error, 'a TopologyError').to.be.instanceOf(TopologyError);
  expect((error as TopologyError).operator).to.equal(operator);
  expect((error as TopologyError).message).to.match(reason);
  expect((error as TopologyError).code).to.equal('SLUICE_TOPOLOGY');
}

describe('topology compiler', () => {
  it('splits sub-topologies at a repartition topic named after the application', () => {
    const compiled = compile(orders(), { applicationId: 'shop', ...serdes });
    expect(compiled.subtopologies).to.have.length(2);
    expect(compiled.subtopologies[0]!.sourceTopics).to.deep.equal(['orders']);
    expect(compiled.subtopologies[1]!.sourceTopics).to.deep.equal(['shop-orders-by-user-repartition']);
    expect(compiled.internalTopics).to.deep.equal([
      { name: 'shop-orders-by-user-repartition', kind: 'repartition', partitions: undefined, writtenBy: 0, config: { 'retention.ms': '-1' } },
    ]);
    expect(compiled.subtopologies[0]!.nodes.map((n) => n.name)).to.deep.equal(['KSTREAM-SOURCE-0000000000', 'positive', 'by-user', 'orders-by-user-sink']);
    expect(compiled.externalSourceTopics).to.deep.equal(['orders']);
    expect(compiled.externalSinkTopics).to.deep.equal(['totals']);
  });

  it('describes the topology as JSON (the documented contract), text and Mermaid', () => {
    const compiled = compile(orders(), { applicationId: 'shop', ...serdes });
    const json = describeJson(compiled);
    expect(json.subtopologies.map((s) => s.id)).to.deep.equal([0, 1]);
    expect(json.subtopologies[1]!.nodes[0]).to.deep.include({ name: 'orders-by-user-source', type: 'source', topics: ['shop-orders-by-user-repartition'] });
    expect(json.subtopologies[0]!.nodes[1]).to.deep.include({ name: 'positive', type: 'processor', operator: 'filter', successors: ['by-user'] });
    expect(json.stores).to.deep.equal([]);
    expect(json.topics).to.deep.include({ name: 'shop-orders-by-user-repartition', type: 'repartition', partitions: null });
    const text = describeText(compiled);
    expect(text).to.contain('Sub-topology: 1');
    expect(text).to.contain('Sink: orders-by-user-sink (topic: shop-orders-by-user-repartition)');
    expect(text).to.contain('<-- positive');
    const mermaid = describeMermaid(compiled);
    expect(mermaid.startsWith('flowchart LR')).to.equal(true);
    expect(mermaid).to.contain('subgraph sub1');
  });

  it('generates the same names for the same topology', () => {
    const names = () => compile(orders(), { applicationId: 'a', ...serdes }).subtopologies.flatMap((s) => s.nodes.map((n) => n.name));
    expect(names()).to.deep.equal(names());
  });

  it('rejects an unknown operator, naming the node and the closest operator', () => {
    const stream = new StreamsBuilder().stream('orders', { name: 'orders' });
    expectTopologyError(() => (stream as unknown as { fliter: () => void }).fliter(), 'orders', /"fliter" is not an operator of a stream; did you mean "filter"\?/);
  });

  it('rejects duplicate names', () => {
    const builder = new StreamsBuilder();
    const s = builder.stream('a', { name: 'x' });
    expectTopologyError(() => s.filter(() => true, { name: 'x' }), 'x', /used by another operator/);
  });

  it('rejects an unknown parent in the Processor API, suggesting the right one', () => {
    const topology = new Topology().addSource('src', 'in', {}).addProcessor('p', passthrough, 'SRC').addSink('out', 'o', {}, 'p');
    expectTopologyError(() => compile(topology, { applicationId: 'a', ...serdes }), 'p', /parent "SRC" is not a node of this topology; did you mean "src"\?/);
  });

  it('rejects a cycle, naming the nodes on it', () => {
    const topology = new Topology()
      .addSource('src', 'in')
      .addProcessor('a', passthrough, 'src', 'c')
      .addProcessor('b', passthrough, 'a')
      .addProcessor('c', passthrough, 'b')
      .addSink('out', 'o', {}, 'c');
    expectTopologyError(() => compile(topology, { applicationId: 'app', ...serdes }), 'a', /cycle \(a -> c -> b -> a\)|cycle \(.*a.*\)/);
  });

  it('rejects a missing serde, naming the source or sink and how to fix it', () => {
    const noValue = new StreamsBuilder();
    noValue.stream('in', { key: Serdes.string(), name: 'in' }).to('out');
    expectTopologyError(() => compile(noValue.build(), { applicationId: 'a' }), 'in', /no value serde to read records with: pass one to stream\(topic, \{ key, value \}\)/);

    const sinkWithout = new StreamsBuilder();
    sinkWithout
      .stream('in', { key: Serdes.string(), value: Serdes.string() })
      .mapValues((v) => v.length)
      .to('out', { name: 'lengths' });
    expectTopologyError(() => compile(sinkWithout.build(), { applicationId: 'a' }), 'lengths', /no value serde to write records with/);
    // With an application default the same topology compiles.
    expect(() => compile(sinkWithout.build(), { applicationId: 'a', valueSerde: Serdes.json() })).not.to.throw();
  });

  it('rejects a sink into its own source, and a topic read twice', () => {
    const loop = new StreamsBuilder();
    loop.stream('events').mapValues((v) => v).to('events', { name: 'back' });
    expectTopologyError(() => compile(loop.build(), { applicationId: 'a', ...serdes }), 'back', /writes to "events", which its own sub-topology reads/);

    const twice = new StreamsBuilder();
    twice.stream('events', { name: 'one' }).to('x');
    twice.stream('events', { name: 'two' }).to('y');
    expectTopologyError(() => compile(twice.build(), { applicationId: 'a', ...serdes }), 'two', /already read by "one"/);
  });

  it('rejects bad names and application ids', () => {
    expectTopologyError(() => new StreamsBuilder().stream('a', { name: 'has space' }), 'has space', /letters, digits/);
    expectTopologyError(() => compile(orders(), { applicationId: 'bad id', ...serdes }), undefined, /application id "bad id"/);
  });

  it('connects stores declared for custom processors, in the DSL and the Processor API', () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'seen', value: Serdes.json<boolean>(), ttlMs: 60_000, caching: false });
    builder.stream('events').process(passthrough, { name: 'dedupe', stores: ['seen'] }).to('unique');
    const dsl = compile(builder.build(), { applicationId: 'app', ...serdes });
    expect(dsl.stores).to.have.length(1);
    expect(dsl.stores[0]).to.include({ name: 'seen', changelogTopic: 'app-seen-changelog', ttlMs: 60_000, caching: false, subtopology: 0 });
    expect(describeJson(dsl).subtopologies[0]!.nodes.find((n) => n.name === 'dedupe')!.stores).to.deep.equal(['seen']);

    const topology = new Topology()
      .addSource('in', 'events')
      .addProcessor('dedupe', passthrough, 'in')
      .addProcessor('count', passthrough, 'dedupe')
      .addStateStore({ name: 'seen' }, 'dedupe', 'count')
      .addSink('out', 'unique', {}, 'count');
    const api = compile(topology, { applicationId: 'app', ...serdes });
    expect(api.stores.map((s) => s.name)).to.deep.equal(['seen']);
    expect(api.internalTopics.map((t) => t.name)).to.deep.equal(['app-seen-changelog']);
  });

  it('rejects stores that are unnamed, unknown, unused, connected to nothing real, or with a bad TTL', () => {
    expectTopologyError(() => new StreamsBuilder().addStateStore({ name: '' }), 'addStateStore', /needs a store name/);
    expectTopologyError(() => new StreamsBuilder().addStateStore({ name: 'x', ttlMs: -5 }), 'x', /ttlMs must be a positive number/);
    const unknown = new StreamsBuilder();
    unknown.stream('events').process(passthrough, { name: 'p', stores: ['nope'] }).to('out');
    expectTopologyError(() => compile(unknown.build(), { applicationId: 'app', ...serdes }), 'p', /uses store "nope", which no operator declares/);
    const unused = new StreamsBuilder();
    unused.addStateStore({ name: 'lonely' });
    unused.stream('events').to('out');
    expectTopologyError(() => compile(unused.build(), { applicationId: 'app', ...serdes }), undefined, /"lonely" is declared but no operator uses it/);
    expectTopologyError(() => new Topology().addSource('in', 'events').addStateStore({ name: 's' }, 'ghost'), 'ghost', /no processor has this name/);
    expectTopologyError(() => new Topology().addSource('in', 'events').addStateStore({ name: 's' }, 'in'), 'in', /only processors can use stores/);
  });

  it('describes prioritize and batch with their stores (preloaded; released ids with a TTL) and routes', () => {
    const builder = new StreamsBuilder();
    const ranked = builder
      .stream<string, { id: string; needs: string[]; p: number }>('mutations')
      .prioritize({ name: 'rank', store: 'ranked', maxBuffered: 100, windowMs: 500, priority: (_k, v) => v.p });
    ranked
      .batch({ name: 'group', store: 'pending', maxSize: 50, lingerMs: 200, id: (v) => v.id, dependsOn: (v) => v.needs, releasedTtlMs: 60_000, onMissingDependency: (missing) => missing.to('failed') })
      .to('batches');
    const compiled = compile(builder.build(), { applicationId: 'agg', ...serdes });
    const json = describeJson(compiled);
    const nodes = json.subtopologies[0]!.nodes;
    expect(nodes.find((n) => n.name === 'rank')).to.deep.include({ operator: 'prioritize', stores: ['ranked'], successors: ['group'] });
    expect(nodes.find((n) => n.name === 'group')).to.deep.include({ operator: 'batch', stores: ['pending', 'pending-released'], successors: ['group-batches', 'group-missing'] });
    expect(json.stores).to.deep.equal([
      { name: 'ranked', changelog: 'agg-ranked-changelog', partitionedByKey: false },
      { name: 'pending', changelog: 'agg-pending-changelog', partitionedByKey: false },
      { name: 'pending-released', changelog: 'agg-pending-released-changelog', ttlMs: 60_000, partitionedByKey: false },
    ]);
    expect(compiled.stores.map((s) => [s.name, s.preload])).to.deep.equal([['ranked', true], ['pending', true], ['pending-released', false]]);
    expect(describeText(compiled)).to.contain('Processor: group (batch; stores: [pending, pending-released])');
    const source = new StreamsBuilder().stream('m', { name: 'm' });
    expectTopologyError(() => (source as unknown as { priortize: () => void }).priortize(), 'm', /did you mean "prioritize"/);
  });

  it('rejects prioritize and batch options that cannot work, naming the operator', () => {
    const stream = () => new StreamsBuilder().stream<string, { id: string }>('m');
    const priority = () => 1;
    expectTopologyError(() => stream().prioritize({ name: 'p', store: 's', maxBuffered: 0, windowMs: 10, priority }), 'p', /maxBuffered must be a positive whole number; got 0/);
    expectTopologyError(() => stream().prioritize({ name: 'p', store: 's', maxBuffered: 1.5, windowMs: 10, priority }), 'p', /maxBuffered must be a positive whole number/);
    expectTopologyError(() => stream().prioritize({ name: 'p', store: 's', maxBuffered: 10, windowMs: -1, priority }), 'p', /windowMs must be a positive number/);
    expectTopologyError(() => stream().prioritize({ name: 'p', store: 's', maxBuffered: 10, windowMs: 10, priority: undefined as never }), 'p', /priority must be a function/);
    expectTopologyError(() => stream().prioritize({ name: 'p', store: undefined as never, maxBuffered: 10, windowMs: 10, priority }), 'p', /needs a store name/);
    expectTopologyError(() => stream().batch({ name: 'b', store: 's', maxSize: 0, lingerMs: 10 }), 'b', /maxSize must be a positive whole number/);
    expectTopologyError(() => stream().batch({ name: 'b', store: 's', maxSize: 10, maxBytes: -1, lingerMs: 10 }), 'b', /maxBytes must be a positive whole number/);
    expectTopologyError(() => stream().batch({ name: 'b', store: 's', maxSize: 10, lingerMs: Number.NaN }), 'b', /lingerMs must be a positive number/);
    expectTopologyError(() => stream().batch({ name: 'b', store: '', maxSize: 10, lingerMs: 10 }), 'b', /needs a store name/);
    expectTopologyError(() => stream().batch({ name: 'b', store: 's', maxSize: 10, lingerMs: 10, id: (v) => v.id }), 'b', /both id and dependsOn/);
    expectTopologyError(() => stream().batch({ name: 'b', store: 's', maxSize: 10, lingerMs: 10, id: (v) => v.id, dependsOn: () => [] }), 'b', /releasedTtlMs is required/);
    expectTopologyError(() => stream().batch({ name: 'b', store: 's', maxSize: 10, lingerMs: 10, id: (v) => v.id, dependsOn: () => [], releasedTtlMs: 1_000, dependencyTimeoutMs: 0 }), 'b', /dependencyTimeoutMs must be a positive number/);
    expectTopologyError(() => stream().batch({ name: 'b', store: 's', maxSize: 10, lingerMs: 10, onMissingDependency: () => undefined }), 'b', /give id and dependsOn too/);
    const both = new StreamsBuilder();
    both.addStateStore({ name: 'buffer', ttlMs: 1_000, preload: true });
    both.stream('events').process(passthrough, { name: 'p', stores: ['buffer'] }).to('out');
    expectTopologyError(() => compile(both.build(), { applicationId: 'app', ...serdes }), 'p', /cannot both expire entries and be preloaded/);
  });
});
