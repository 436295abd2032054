// Type-level checks: `tsc --noEmit` runs over the tests, so a wrong inference here fails CI.
import { expect } from 'chai';
import { StreamsBuilder } from '../../engine/dsl/builder.ts';
import type { Stream } from '../../engine/dsl/stream.ts';
import type { Batch } from '../../engine/processors/batch.ts';
import { Serdes } from '../../engine/serde/serde.ts';

type Created = { type: 'created'; id: string };
type Deleted = { type: 'deleted'; id: string; reason: string };
type Event = Created | Deleted;

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_: T) => undefined;

describe('DSL types', () => {
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
});
