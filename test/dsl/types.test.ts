// Type-level checks: `tsc --noEmit` runs over the tests, so a wrong inference here fails CI.
import { expect } from 'chai';
import { StreamsBuilder } from '../../engine/dsl/builder.ts';
import { Topology } from '../../engine/dsl/topology.ts';
import type { ProcessorSupplier } from '../../engine/processors/processor.ts';
import type { Stream, Table } from '../../engine/dsl/api.ts';
import type { Batch } from '../../engine/processors/batch.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { JoinWindows } from '../../engine/processors/windows/join-windows.ts';

type Created = { type: 'created'; id: string };
type Deleted = { type: 'deleted'; id: string; reason: string };
type Event = Created | Deleted;

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_: T) => undefined;

describe('DSL types', () => {
  it('infer what async operators resolve to, and refuse functions that do not return a promise', () => {
    const events = new StreamsBuilder().stream<string, Event>('events', { key: Serdes.string(), value: Serdes.json<Event>() });
    const lengths = events.mapValuesAsync(async (e, key, { signal, idempotencyKey }) => (signal.aborted ? 0 : e.id.length + key.length + idempotencyKey.length));
    assertType<Equals<typeof lengths, Stream<string, number>>>(true);
    const rekeyed = events.mapAsync(async (_, e) => [e.id.length, e.type] as [number, Event['type']]);
    assertType<Equals<typeof rekeyed, Stream<number, 'created' | 'deleted'>>>(true);
    const kept = events.filterAsync(async (_, e) => e.type === 'created');
    assertType<Equals<typeof kept, Stream<string, Event>>>(true);
    const many = events.flatMapAsync(async (key, e) => [[key, e.id] as [string, string]]);
    assertType<Equals<typeof many, Stream<string, string>>>(true);
    // Checked by the compiler only (never called).
    const refused = () => {
      // @ts-expect-error a synchronous function is not an async operator's
      events.mapValuesAsync((e) => e.id);
      // @ts-expect-error filterAsync's predicate resolves to a boolean
      events.filterAsync(async () => 'yes');
      // @ts-expect-error forEachAsync is terminal: it returns no stream
      events.forEachAsync(async () => undefined).to('out');
    };
    expect(refused).to.be.a('function');
    expect([lengths, rekeyed, kept, many].every((stream) => typeof stream.node === 'string')).to.equal(true);
  });

  it('narrow with type guards and infer through operators', () => {
    const events = new StreamsBuilder().stream<string, Event>('events', { key: Serdes.string(), value: Serdes.json<Event>() });

    const deleted = events.filter((_, e): e is Deleted => e.type === 'deleted');
    assertType<Equals<typeof deleted, Stream<string, Deleted>>>(true);

    const notDeleted = events.filterNot((_, e): e is Deleted => e.type === 'deleted');
    assertType<Equals<typeof notDeleted, Stream<string, Created>>>(true);

    const reasons = deleted.mapValues((e) => e.reason.length);
    assertType<Equals<typeof reasons, Stream<string, number>>>(true);

    const rekeyed = events.selectKey((_, e) => e.id.length);
    assertType<Equals<typeof rekeyed, Stream<number, Event>>>(true);

    const pairs = events.map((k, e) => [e.id, k] as const);
    assertType<Equals<typeof pairs, Stream<string, string>>>(true);

    const { created, rest } = events
      .split()
      .branch('created', (_, e): e is Created => e.type === 'created')
      .defaultBranch('rest');
    assertType<Equals<typeof created, Stream<string, Created>>>(true);
    assertType<Equals<typeof rest, Stream<string, Event>>>(true);

    const ranked = events.prioritize({ store: 'ranked', maxBuffered: 10, windowMs: 100, priority: (_, e) => (e.type === 'deleted' ? 2 : 1) });
    assertType<Equals<typeof ranked, Stream<string, Event>>>(true);
    const batches = deleted.batch({ store: 'pending', maxSize: 10, lingerMs: 100, id: (e) => e.id, dependsOn: (e) => [e.reason], releasedTtlMs: 1_000 });
    assertType<Equals<typeof batches, Stream<string, Batch<string, Deleted>>>>(true);

    const merged = created.merge(reasons);
    assertType<Equals<typeof merged, Stream<string, Created | number>>>(true);
    const same = created.merge(created);
    assertType<Equals<typeof same, Stream<string, Created>>>(true);

    // @ts-expect-error a Deleted has a reason, a number does not
    reasons.mapValues((n) => n.reason);
    // Every operator recorded a node of its own.
    const nodes = [deleted, notDeleted, reasons, rekeyed, pairs, created, rest, ranked, batches, merged, same].map((s) => s.node);
    expect(new Set(nodes).size).to.equal(nodes.length);
  });

  it('type custom processors: process() takes the stream\'s types and returns the ones its supplier forwards', () => {
    const events = new StreamsBuilder().stream<string, Event>('events', { key: Serdes.string(), value: Serdes.json<Event>() });

    // A typed supplier states what it takes and what it forwards; the output stream has its types.
    const idLength: ProcessorSupplier<string, Event, string, number> = ({ next }) => (key, event) => next(key, event.id.length);
    const lengths = events.process(idLength);
    assertType<Equals<typeof lengths, Stream<string, number>>>(true);
    // Inline, the record's types come from the stream, and the output is this stream's unless stated.
    const same = events.process(({ next }) => (key, event) => next(key, event));
    assertType<Equals<typeof same, Stream<string, Event>>>(true);
    const reasons = events.process<string, string>(({ next }) => (key, event) => {
      if (event.type === 'deleted') next(key, event.reason);
    });
    assertType<Equals<typeof reasons, Stream<string, string>>>(true);
    // An untyped supplier forwards unknowns: the output says so, rather than claiming a type.
    const untyped: ProcessorSupplier = ({ next }) => (key, value) => next(key, value);
    const unknowns = events.process(untyped);
    assertType<Equals<typeof unknowns, Stream<unknown, unknown>>>(true);

    // @ts-expect-error the output is this stream's unless stated: a number is no Event
    events.process(({ next }) => (key, event) => next(key, event.id.length));
    // @ts-expect-error a stated output type is checked where the record is forwarded
    events.process<string, number>(({ next }) => (key, event) => next(key, event.id));
    // @ts-expect-error the supplier takes numbers, the stream has Events
    lengths.process(idLength);
    // @ts-expect-error a Deleted has a reason, a Created does not: the per-record function sees Events
    events.process(({ next }) => (key, event) => next(key, event.reason));

    // The Processor API wires by name and takes any typed supplier.
    const topology = new Topology().addSource('in', 'events').addProcessor('lengths', idLength, 'in');
    expect(topology.graph.nodes.map((n) => n.name)).to.deep.equal(['in', 'lengths']);
    expect(new Set([lengths.node, same.node, reasons.node, unknowns.node]).size).to.equal(4);
  });

  it('narrow tables with type guards, as streams', () => {
    const table = new StreamsBuilder().table<string, Event>('latest', { name: 'latest', key: Serdes.string(), value: Serdes.json<Event>() });
    const deleted = table.filter((_, e): e is Deleted => e.type === 'deleted');
    assertType<Equals<typeof deleted, Table<string, Deleted>>>(true);
    const created = table.filterNot((_, e): e is Deleted => e.type === 'deleted');
    assertType<Equals<typeof created, Table<string, Created>>>(true);
    const all = table.filter((_, e) => e.id.length > 0);
    assertType<Equals<typeof all, Table<string, Event>>>(true);
    const reasons = deleted.mapValues((e) => e.reason);
    assertType<Equals<typeof reasons, Table<string, string>>>(true);
    // @ts-expect-error a Created has no reason
    created.mapValues((e) => e.reason);
    expect(new Set([deleted.node, created.node, all.node, reasons.node]).size).to.equal(4);
  });

  it('type joins: the joiner gets each side\'s values, null where the join kind lets a side be missing', () => {
    const b = new StreamsBuilder();
    const events = b.stream<string, Event>('events');
    const amounts = b.stream<string, number>('amounts');
    const names = b.table<string, string>('names', { name: 'names' });
    const windows = JoinWindows.ofTimeDifferenceWithNoGrace(1_000);
    const pairs = events.join(amounts, (e, n) => `${e.id}:${n.toFixed(0)}`, windows, { name: 'pairs' });
    assertType<Equals<typeof pairs, Stream<string, string>>>(true);
    events.leftJoin(amounts, (e, n) => `${e.id}:${n ?? 0}`, windows, { name: 'left-pairs' });
    // @ts-expect-error a left join's other side may be null
    events.leftJoin(amounts, (e, n) => n.toFixed(0), windows, { name: 'left-pairs-2' });
    // @ts-expect-error an outer join's own side may be null too
    events.outerJoin(amounts, (e, n) => e.id + String(n), windows, { name: 'outer-pairs' });
    // @ts-expect-error the other stream's values are numbers, not Events
    events.join(amounts, (e, other: Event) => other.id, windows, { name: 'wrong-pairs' });
    const named = events.join(names, (e, name) => `${e.id} by ${name}`);
    assertType<Equals<typeof named, Stream<string, string>>>(true);
    const table = b.table<string, Event>('latest', { name: 'latest' });
    const joined = table.join(names, (e, name) => ({ id: e.id, name }), { name: 'latest-names' });
    assertType<Equals<typeof joined, Table<string, { id: string; name: string }>>>(true);
    const byForeignKey = table.leftJoin(names, (e) => e.id, (e, name) => name ?? e.type, { name: 'by-id' });
    assertType<Equals<typeof byForeignKey, Table<string, string>>>(true);
    // @ts-expect-error a foreign-key join's foreign key is the other table's key type (string)
    table.join(names, (e) => e.id.length, (e, name) => name, { name: 'by-length' });
    expect([pairs.node, named.node, joined.node, byForeignKey.node].every((n) => typeof n === 'string')).to.equal(true);
  });

  it('refuse a callback that returns a promise: operators are synchronous', () => {
    const builder = new StreamsBuilder();
    const events = builder.stream<string, Event>('events', { key: Serdes.string(), value: Serdes.json<Event>() });
    const table = builder.table<string, Event>('latest', { name: 'latest' });
    const grouped = events.groupByKey();
    const lookUp = async (id: string) => id.length;

    // Synchronous callbacks still infer their types.
    const lengths = events.mapValues((e) => e.id.length);
    assertType<Equals<typeof lengths, Stream<string, number>>>(true);
    const explicit = events.mapValues<string | number>((e) => e.id);
    assertType<Equals<typeof explicit, Stream<string, string | number>>>(true);
    const totals = grouped.aggregate(() => 0, (_, e, n) => n + e.id.length, { name: 'totals' });
    assertType<Equals<typeof totals, Table<string, number>>>(true);
    const views = events.project({ store: 'views', apply: (view: { n: number } | null) => ({ n: (view?.n ?? 0) + 1 }) });
    assertType<Equals<typeof views, Table<string, { n: number }>>>(true);
    events.peek((k) => k.length);
    events.process(({ next }) => (key, value) => next(key, value));
    events.process(() => (_, value) => new Map([[value, 1]]));

    // @ts-expect-error filter: a promise is not a boolean
    events.filter(async (_, e) => e.type === 'created');
    // @ts-expect-error filterNot
    events.filterNot(async (_, e) => e.type === 'created');
    // @ts-expect-error map
    events.map(async (k, e) => [k, e] as const);
    // @ts-expect-error mapValues
    events.mapValues(async (e) => lookUp(e.id));
    // @ts-expect-error mapValues returning a promise without async
    events.mapValues((e) => lookUp(e.id));
    // @ts-expect-error mapValues returning a promise on some records
    events.mapValues((e) => (e.type === 'created' ? lookUp(e.id) : 0));
    // @ts-expect-error flatMap
    events.flatMap(async (k, e) => [[k, e] as const]);
    // @ts-expect-error flatMapValues
    events.flatMapValues(async (e) => [e]);
    // @ts-expect-error selectKey
    events.selectKey(async (_, e) => e.id);
    // @ts-expect-error peek: a void callback would accept a promise
    events.peek(async (k) => void (await lookUp(k)));
    // @ts-expect-error withHeaders
    events.withHeaders(async () => []);
    // @ts-expect-error process: the per-record function
    events.process(({ next }) => async (key, value) => next(key, await lookUp(String(value))));
    // @ts-expect-error dedupe's id
    events.dedupe({ store: 'seen', ttlMs: 1_000, id: async (_, e) => e.id });
    // @ts-expect-error versionGate's version
    events.versionGate({ store: 'versions', version: async (_, e) => lookUp(e.id) });
    // @ts-expect-error project's apply
    events.project({ store: 'async-views', apply: async (view: { n: number } | null) => ({ n: (view?.n ?? 0) + 1 }) });
    // @ts-expect-error prioritize's priority
    events.prioritize({ store: 'ranked', maxBuffered: 10, windowMs: 100, priority: async () => 1 });
    // @ts-expect-error to's topic chooser
    events.to(async () => 'out');
    // @ts-expect-error groupBy's key selector
    events.groupBy(async (_, e) => e.id);
    // @ts-expect-error split's branch predicate
    events.split().branch('created', async (_, e) => e.type === 'created');
    // @ts-expect-error aggregate's aggregator
    grouped.aggregate(() => 0, async (_, e, n) => n + e.id.length, { name: 'async-totals' });
    // @ts-expect-error aggregate's initializer
    grouped.aggregate(async () => 0, (_, e, n) => n + e.id.length, { name: 'async-start' });
    // @ts-expect-error reduce
    grouped.reduce(async (a) => a, { name: 'async-reduce' });
    // @ts-expect-error reduce, where any value would do
    builder.stream('raw').groupByKey().reduce(async (a) => a, { name: 'raw-reduce' });
    // @ts-expect-error table filter
    table.filter(async () => true);
    // @ts-expect-error table mapValues
    table.mapValues(async (e) => e.id);
    expect(new Set([lengths.node, explicit.node, totals.node, views.node]).size).to.equal(4);
  });
});
