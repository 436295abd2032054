import { expect } from 'chai';
import { decide, NEW_ENTITY, resolve, type Decision, type EntityState, type Mutation, type Strategy } from '../../../engine/extensions/mutations/conflicts.ts';

let n = 0;
function mutation(fields: Partial<Mutation> & Pick<Mutation, 'operation_type' | 'base_version'>): Mutation {
  n++;
  return {
    id: `m${String(n).padStart(3, '0')}`,
    edge_node_id: 'edge-1',
    entity_type: 'customer',
    entity_id: 'c1',
    attributes: {},
    timestamp: `2026-11-23T12:00:${String(n % 60).padStart(2, '0')}.000Z`,
    priority: 5,
    dependencies: [],
    ...fields,
  };
}

function entityOf(decision: Decision): EntityState {
  if (decision.outcome === 'rejected') throw new Error(`rejected: ${decision.reason}`);
  return decision.entity;
}

const values = (e: EntityState) => Object.fromEntries(Object.entries(e.attributes).map(([a, s]) => [a, s.value]));

/** An entity at version 2: created with name and city, then its city changed (by m-city at 12:05). */
function moved(): { entity: EntityState; base: number } {
  let entity = entityOf(decide(NEW_ENTITY, mutation({ operation_type: 'CREATE', base_version: 0, attributes: { name: 'Ada', city: 'Bonn', tags: ['a'] } })));
  entity = entityOf(decide(entity, { ...mutation({ operation_type: 'UPDATE', base_version: 1, attributes: { city: 'Köln', tags: ['b'] } }), timestamp: '2026-11-23T12:05:00.000Z', priority: 5 }));
  return { entity, base: 1 };
}

describe('conflict detection and resolution', () => {
  it('applies mutations made against the current version, one version each', () => {
    const created = decide(NEW_ENTITY, mutation({ operation_type: 'CREATE', base_version: 0, attributes: { name: 'Ada' } }));
    expect(created).to.include({ outcome: 'applied' });
    const updated = decide(entityOf(created), mutation({ operation_type: 'UPDATE', base_version: 1, attributes: { city: 'Bonn' } }));
    expect(updated.outcome).to.equal('applied');
    expect(entityOf(updated).version).to.equal(2);
    expect(values(entityOf(updated))).to.deep.equal({ name: 'Ada', city: 'Bonn' });
    const deleted = decide(entityOf(updated), mutation({ operation_type: 'DELETE', base_version: 2 }));
    expect(entityOf(deleted)).to.deep.include({ version: 3, deleted: true, attributes: {} });
  });

  it('rejects what cannot apply: a second creation, an update of nothing, anything after deletion, a base version from the future', () => {
    const { entity } = moved();
    expect(decide(entity, mutation({ operation_type: 'CREATE', base_version: 2 }))).to.deep.include({ outcome: 'rejected' });
    expect(decide(NEW_ENTITY, mutation({ operation_type: 'UPDATE', base_version: 0, attributes: { a: 1 } }))).to.deep.include({ outcome: 'rejected' });
    const gone = entityOf(decide(entity, mutation({ operation_type: 'DELETE', base_version: 2 })));
    expect((decide(gone, mutation({ operation_type: 'UPDATE', base_version: 3, attributes: { a: 1 } })) as { reason: string }).reason).to.match(/is deleted/);
    expect((decide(entity, mutation({ operation_type: 'UPDATE', base_version: 7, attributes: { a: 1 } })) as { reason: string }).reason).to.match(/ahead/);
  });

  it('merges a stale mutation that touches only attributes unchanged since its base', () => {
    const { entity, base } = moved();
    const decision = decide(entity, mutation({ operation_type: 'UPDATE', base_version: base, attributes: { name: 'Ada L.' } }));
    expect(decision.outcome).to.equal('applied');
    expect(values(entityOf(decision))).to.deep.include({ name: 'Ada L.', city: 'Köln' });
  });

  const stale = (timestamp: string, priority: number) => ({ ...mutation({ operation_type: 'UPDATE', base_version: 1, attributes: { city: 'Berlin', name: 'Ada B.' } }), timestamp, priority });

  const cases: Array<[Strategy, string, number, string]> = [
    ['last-writer-wins', '2026-11-23T12:10:00.000Z', 5, 'Berlin'], // later than the 12:05 write
    ['last-writer-wins', '2026-11-23T12:01:00.000Z', 5, 'Köln'], // made offline before it
    ['first-writer-wins', '2026-11-23T12:01:00.000Z', 5, 'Berlin'],
    ['first-writer-wins', '2026-11-23T12:10:00.000Z', 5, 'Köln'],
    ['priority', '2026-11-23T12:01:00.000Z', 9, 'Berlin'],
    ['priority', '2026-11-23T12:10:00.000Z', 2, 'Köln'],
    ['priority', '2026-11-23T12:10:00.000Z', 5, 'Berlin'], // equal priority: last writer wins
  ];
  for (const [strategy, timestamp, priority, city] of cases) {
    it(`${strategy}: a conflicting write at ${timestamp.slice(11, 16)} with priority ${priority} leaves city = ${city}, and the other attribute applies`, () => {
      const { entity } = moved();
      const decision = decide(entity, stale(timestamp, priority), strategy);
      expect(decision.outcome).to.equal('resolved');
      expect((decision as { conflicts: Array<{ attribute: string }> }).conflicts.map((c) => c.attribute)).to.deep.equal(['city']);
      expect(values(entityOf(decision))).to.deep.include({ city, name: 'Ada B.' });
      expect(entityOf(decision).version).to.equal(3);
    });
  }

  it('merge: objects merge and arrays join; a custom strategy decides by its own rule', () => {
    const { entity } = moved();
    const merged = decide(entity, mutation({ operation_type: 'UPDATE', base_version: 1, attributes: { tags: ['c', 'b'] } }), 'merge');
    expect(values(entityOf(merged)).tags).to.deep.equal(['b', 'c']);
    const custom = decide(entity, mutation({ operation_type: 'UPDATE', base_version: 1, attributes: { city: 'Berlin' } }), (conflict) => ({ value: `${conflict.current.value as string}/${conflict.incoming.value as string}` }));
    expect(values(entityOf(custom)).city).to.equal('Köln/Berlin');
  });

  it('manual: the conflict stays open, the other attributes apply, and a later resolution applies once', () => {
    const { entity } = moved();
    const decision = decide(entity, mutation({ operation_type: 'UPDATE', base_version: 1, attributes: { city: 'Berlin', name: 'Ada B.' } }), 'manual');
    expect(decision.outcome).to.equal('conflict');
    const { open } = decision as Extract<Decision, { outcome: 'conflict' }>;
    expect(open.conflicts.map((c) => [c.attribute, c.current.value, c.incoming.value])).to.deep.equal([['city', 'Köln', 'Berlin']]);
    const after = entityOf(decision);
    expect(values(after)).to.deep.include({ city: 'Köln', name: 'Ada B.' });
    const resolved = resolve(after, open, { city: 'incoming' }, { timestamp: '2026-11-23T13:00:00.000Z', mutation: 'resolution-1', priority: 10 });
    expect(resolved.outcome).to.equal('resolved');
    expect(values(entityOf(resolved)).city).to.equal('Berlin');
    // Resolving the same conflict again finds the attribute changed since: refused.
    expect(resolve(entityOf(resolved), open, { city: 'current' }, { timestamp: '2026-11-23T13:01:00.000Z', mutation: 'resolution-2', priority: 10 }).outcome).to.equal('rejected');
    expect(resolve(after, open, { zip: 'incoming' }, { timestamp: '2026-11-23T13:00:00.000Z', mutation: 'r3', priority: 1 })).to.deep.include({ outcome: 'rejected' });
  });

  it('a stale deletion conflicts with every attribute written since its base, and wins or loses as a whole', () => {
    const { entity } = moved();
    const late = decide(entity, { ...mutation({ operation_type: 'DELETE', base_version: 1 }), timestamp: '2026-11-23T12:30:00.000Z' });
    expect(entityOf(late)).to.deep.include({ deleted: true });
    const early = decide(entity, { ...mutation({ operation_type: 'DELETE', base_version: 1 }), timestamp: '2026-11-23T12:01:00.000Z' });
    expect(early.outcome).to.equal('resolved');
    expect(entityOf(early)).to.deep.include({ deleted: false, version: 2 });
  });

  it('decides alike however often it is replayed (a rebuild from the log gives the same entities)', () => {
    const log: Mutation[] = [];
    for (let i = 0; i < 300; i++) {
      log.push({
        ...mutation({ operation_type: i === 0 ? 'CREATE' : 'UPDATE', base_version: Math.max(0, Math.floor(i / 3)), attributes: { [`a${i % 5}`]: i, [`b${i % 3}`]: -i } }),
        timestamp: new Date(Date.UTC(2026, 10, 23, 12) + ((i * 7919) % 600) * 1000).toISOString(),
        priority: (i % 10) + 1,
      });
    }
    const run = (strategy: Strategy) => {
      let entity = NEW_ENTITY;
      const outcomes: string[] = [];
      let writes = 0;
      for (const m of log) {
        const d = decide(entity, m, strategy);
        outcomes.push(d.outcome);
        if (d.outcome === 'rejected') continue;
        if (Object.keys(d.changes).length > 0 || d.deleted) writes++;
        entity = d.entity;
      }
      return { entity, outcomes, writes };
    };
    for (const strategy of ['last-writer-wins', 'first-writer-wins', 'priority', 'merge'] as const) {
      const first = run(strategy);
      expect(run(strategy)).to.deep.equal(first);
      expect(first.outcomes).to.include('resolved');
      // Every decision that changed something made exactly one new version; the others none.
      expect(first.entity.version).to.equal(first.writes);
    }
  });
});
