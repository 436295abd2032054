import { expect } from 'chai';
import { StreamsBuilder } from '../../engine/dsl/builder.ts';
import { Topology } from '../../engine/dsl/topology.ts';
import { TopologyError } from '../../engine/errors.ts';
import { detectConflicts, type Mutation, type Resolution } from '../../engine/extensions/mutations/index.ts';
import { passthrough } from '../../engine/processors/passthrough.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { compile } from '../../engine/topology/compile.ts';
import { describeJson, describeText } from '../../engine/topology/describe.ts';

const serdes = { keySerde: Serdes.string(), valueSerde: Serdes.json() };

interface Event {
  event_id: string;
  event_type: string;
  version: number;
}

/** One store of every kind the DSL declares. */
function everyKindOfStore() {
  const builder = new StreamsBuilder();
  builder.table('profiles', { name: 'profiles' });
  const events = builder.stream<string, Event>('events', { name: 'events' });
  events.groupByKey().count({ name: 'counts-by-key' });
  events.groupBy((_, e) => e.event_type, { name: 'by-type', key: Serdes.string() }).count({ name: 'counts-by-type' });
  events.project({ name: 'view', store: 'views', apply: (_view, e: Event) => e });
  events.versionGate({ name: 'gate', store: 'versions', version: (_, e) => e.version }).to('fresh');
  events.dedupe({ name: 'dedupe', store: 'seen-events', id: (_, e) => e.event_id, ttlMs: 60_000 }).to('unique');
  builder.addStateStore({ name: 'custom' });
  builder.addStateStore({ name: 'custom-by-key', partitionedByKey: true });
  events.process(passthrough, { name: 'custom-user', stores: ['custom', 'custom-by-key'] }).to('custom-out');

  const mutations = builder.stream<string, Mutation>('mutations', { name: 'mutations' });
  const resolutions = builder.stream<string, Resolution>('resolutions', { name: 'resolutions' });
  const decided = mutations.via(detectConflicts({ name: 'conflicts', entities: 'entities', openConflicts: 'open-conflicts', strategy: 'manual', resolutions }));
  decided.applied
    .prioritize({ name: 'rank', store: 'ranked', maxBuffered: 10, windowMs: 100, priority: () => 1 })
    .batch({ name: 'group', store: 'pending', maxSize: 10, lingerMs: 100, id: (m) => m.mutation.id, dependsOn: () => [], releasedTtlMs: 60_000 })
    .to('batches');
  return compile(builder.build(), { applicationId: 'app', ...serdes });
}

describe('stores partitioned by key (how key lookups are routed)', () => {
  it('marks stores keyed by the record key, and only those, as partitioned by key', () => {
    const compiled = everyKindOfStore();
    const flags = Object.fromEntries(compiled.stores.map((s) => [s.name, s.partitionedByKey]));
    expect(flags).to.deep.equal({
      profiles: true,
      'counts-by-key': true,
      'counts-by-type': true,
      views: true,
      versions: true,
      'seen-events': false,
      custom: false,
      'custom-by-key': true,
      entities: true,
      'open-conflicts': false,
      ranked: false,
      pending: false,
      'pending-released': false,
    });
  });

  it('shows the flag of each store in describe (JSON and text)', () => {
    const compiled = everyKindOfStore();
    const json = describeJson(compiled);
    expect(json.stores.find((s) => s.name === 'seen-events')).to.deep.equal({ name: 'seen-events', changelog: 'app-seen-events-changelog', ttlMs: 60_000, partitionedByKey: false });
    expect(json.stores.find((s) => s.name === 'counts-by-type')).to.deep.equal({ name: 'counts-by-type', changelog: 'app-counts-by-type-changelog', partitionedByKey: true });
    const text = describeText(compiled);
    expect(text).to.match(/^ {4}seen-events \(sub-topology \d, changelog: app-seen-events-changelog, ttl: 60000 ms, key lookups ask: every partition\)$/m);
    expect(text).to.match(/^ {4}counts-by-key \(sub-topology \d, changelog: app-counts-by-key-changelog, key lookups ask: one partition \(partitioned by key\)\)$/m);
  });

  it('takes the flag for stores of the Processor API, and refuses one that is not a boolean', () => {
    const topology = new Topology()
      .addSource('in', 'events')
      .addProcessor('p', passthrough, 'in')
      .addStateStore({ name: 'by-key', partitionedByKey: true }, 'p')
      .addStateStore({ name: 'by-id' }, 'p');
    const compiled = compile(topology, { applicationId: 'app', ...serdes });
    expect(compiled.stores.map((s) => [s.name, s.partitionedByKey])).to.deep.equal([['by-key', true], ['by-id', false]]);
    expect(() => new StreamsBuilder().addStateStore({ name: 'x', partitionedByKey: 'yes' as never })).to.throw(TopologyError, /partitionedByKey must be true or false/);
  });
});
