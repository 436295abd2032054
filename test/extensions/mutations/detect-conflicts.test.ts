import { expect } from 'chai';
import { defineApplication } from '../../../engine/runtime/definition.ts';
import { Serdes } from '../../../engine/serde/serde.ts';
import { detectConflicts, type Mutation, type Resolution } from '../../../engine/extensions/mutations/index.ts';
import { startApplication, text, waitForRecords } from '../../helpers/app.ts';
import { createTopic, produceRecords, uniqueName } from '../../helpers/kafka.ts';

function m(id: string, entity: string, operation_type: Mutation['operation_type'], base_version: number, attributes: Record<string, unknown>, minute: number): Mutation {
  return { id, edge_node_id: 'edge-1', entity_type: 'customer', entity_id: entity, operation_type, attributes, base_version, timestamp: `2026-11-23T12:${String(minute).padStart(2, '0')}:00.000Z`, priority: 5, dependencies: [] };
}

describe('detectConflicts (real broker)', function () {
  this.timeout(120_000);

  it('applies, merges, resolves by strategy or by a later resolution, and gives every mutation its statuses', async () => {
    const prefix = uniqueName('conflicts');
    const t = (name: string) => `${prefix}-${name}`;
    for (const name of ['lww', 'manual', 'resolutions', 'applied', 'statuses', 'conflicts']) await createTopic(t(name), 2);
    const app = await startApplication(
      defineApplication({
        applicationId: 'conflicts',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        topology: (builder) => {
          const lww = builder.stream<string, Mutation>(t('lww'), { name: 'lww' }).via(detectConflicts({ name: 'by-lww', entities: 'lww-entities', openConflicts: 'lww-open' }));
          const resolutions = builder.stream<string, Resolution>(t('resolutions'), { name: 'resolutions' });
          const manual = builder.stream<string, Mutation>(t('manual'), { name: 'manual' }).via(detectConflicts({ name: 'by-hand', entities: 'manual-entities', openConflicts: 'open-conflicts', strategy: 'manual', resolutions }));
          for (const out of [lww, manual]) {
            out.applied.to(t('applied'));
            out.statuses.to(t('statuses'));
            out.conflicts.to(t('conflicts'));
          }
        },
      }),
      { commitIntervalMs: 100 },
    );
    try {
      const key = (entity: string) => `customer:${entity}`;
      await produceRecords(t('lww'), [
        m('l1', 'c1', 'CREATE', 0, { name: 'Ada', city: 'Bonn' }, 0),
        m('l2', 'c1', 'UPDATE', 1, { city: 'Köln' }, 5),
        m('l3', 'c1', 'UPDATE', 1, { city: 'Berlin', name: 'Ada B.' }, 10), // stale, later: wins city
        m('l4', 'c1', 'UPDATE', 1, { city: 'Hamburg' }, 1), // stale, earlier: loses
        m('l5', 'c9', 'UPDATE', 0, { city: 'Nowhere' }, 2), // no such entity
      ].map((v) => ({ key: key(v.entity_id), value: JSON.stringify(v) })));
      await produceRecords(t('manual'), [
        m('h1', 'c2', 'CREATE', 0, { name: 'Bo', city: 'Ulm' }, 0),
        m('h2', 'c2', 'UPDATE', 1, { city: 'Graz' }, 5),
        m('h3', 'c2', 'UPDATE', 1, { city: 'Wien', name: 'Bo W.' }, 10),
      ].map((v) => ({ key: key(v.entity_id), value: JSON.stringify(v) })));

      const conflicts = await waitForRecords(t('conflicts'), 1);
      const open = JSON.parse(text(conflicts[0]!.value)!);
      expect(open).to.deep.include({ mutation_id: 'h3', entity_id: 'c2', base_version: 1 });
      expect(open.conflicts.map((c: { attribute: string }) => c.attribute)).to.deep.equal(['city']);
      expect(open.mutation.id).to.equal('h3');

      const resolution = (choices: Resolution['choices']): Resolution => ({ mutation_id: 'h3', choices, resolved_by: 'ops', timestamp: '2026-11-23T13:00:00.000Z' });
      await produceRecords(t('resolutions'), [resolution({ city: 'incoming' }), resolution({ city: 'current' })].map((r) => ({ key: key('c2'), value: JSON.stringify(r) })));

      const applied = (await waitForRecords(t('applied'), 8)).map((r) => JSON.parse(text(r.value)!));
      const byId = (id: string) => applied.filter((a) => a.mutation.id === id).map((a) => `${a.status} v${a.version} ${JSON.stringify(a.changes)}`);
      expect(byId('l1')).to.deep.equal(['APPLIED v1 {"name":"Ada","city":"Bonn"}']);
      expect(byId('l2')).to.deep.equal(['APPLIED v2 {"city":"Köln"}']);
      expect(byId('l3')).to.deep.equal(['RESOLVED v3 {"city":"Berlin","name":"Ada B."}']);
      expect(byId('l4')).to.deep.equal(['RESOLVED v3 {}']);
      expect(byId('h3')).to.deep.equal(['PARTIAL v3 {"name":"Bo W."}', 'RESOLVED v4 {"city":"Wien"}']);

      const statuses = (await waitForRecords(t('statuses'), 3)).map((r) => JSON.parse(text(r.value)!));
      expect(statuses.map((s) => `${s.mutation_id} ${s.status}`).sort()).to.deep.equal(['h3 CONFLICT', 'h3 REJECTED', 'l5 REJECTED']);
      expect(statuses.find((s) => s.mutation_id === 'l5').reason).to.match(/does not exist/);
      expect(statuses.find((s) => s.status === 'REJECTED' && s.mutation_id === 'h3').reason).to.match(/no open conflict/);
    } finally {
      await app.close();
    }
  });

  it('takes resolutions over HTTP: POST on the query server writes them to the resolutions topic, and bad ones get a 4xx with a JSON body', async () => {
    const prefix = uniqueName('http-resolve');
    const t = (name: string) => `${prefix}-${name}`;
    for (const name of ['mutations', 'resolutions', 'applied', 'statuses', 'conflicts']) await createTopic(t(name), 2);
    const app = await startApplication(
      defineApplication({
        applicationId: 'http-resolve',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        topology: (builder) => {
          const resolutions = builder.stream<string, Resolution>(t('resolutions'), { name: 'resolutions' });
          const out = builder.stream<string, Mutation>(t('mutations'), { name: 'mutations' }).via(detectConflicts({ name: 'by-hand', entities: 'entities', openConflicts: 'open-conflicts', strategy: 'manual', resolutions }));
          out.applied.to(t('applied'));
          out.statuses.to(t('statuses'));
          out.conflicts.to(t('conflicts'));
        },
      }),
      { commitIntervalMs: 100, http: { port: 0 } },
    );
    try {
      await produceRecords(
        t('mutations'),
        [m('h1', 'c7', 'CREATE', 0, { name: 'Cy', city: 'Ulm' }, 0), m('h2', 'c7', 'UPDATE', 1, { city: 'Graz' }, 5), m('h3', 'c7', 'UPDATE', 1, { city: 'Wien' }, 10)].map((v) => ({ key: 'customer:c7', value: JSON.stringify(v) })),
      );
      await waitForRecords(t('conflicts'), 1);
      const post = (path: string, body: unknown, type = 'application/json') =>
        fetch(`${app.endpoint}${path}`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      const good = { mutation_id: 'h3', entity_type: 'customer', entity_id: 'c7', choices: { city: { value: 'Linz' } }, resolved_by: 'ops' };
      const refused: Array<[string, unknown, number, string?]> = [
        ['/v1/stores/open-conflicts/resolutions', { ...good, choices: {} }, 400],
        ['/v1/stores/open-conflicts/resolutions', { ...good, choices: { city: 'mine' } }, 400],
        ['/v1/stores/open-conflicts/resolutions', { ...good, entity_id: '' }, 400],
        ['/v1/stores/open-conflicts/resolutions', { ...good, extra: 1 }, 400],
        ['/v1/stores/open-conflicts/resolutions', '{not json', 400],
        ['/v1/stores/open-conflicts/resolutions', good, 415, 'text/plain'],
        ['/v1/stores/entities/resolutions', good, 404],
      ];
      for (const [path, body, status, type] of refused) {
        const answer = await post(path, body, type);
        expect(answer.status, `${path} ${JSON.stringify(body)}`).to.equal(status);
        expect((await answer.json()) as object).to.have.property('error');
      }
      const accepted = await post('/v1/stores/open-conflicts/resolutions', good);
      expect(accepted.status).to.equal(202);
      expect(await accepted.json()).to.include({ accepted: true, topic: t('resolutions') });

      const statuses = (await waitForRecords(t('statuses'), 1)).map((r) => JSON.parse(text(r.value)!));
      expect(statuses.map((s) => `${s.mutation_id} ${s.status}`)).to.deep.equal(['h3 CONFLICT']);
      const applied = (await waitForRecords(t('applied'), 3)).map((r) => JSON.parse(text(r.value)!));
      expect(applied.filter((a) => a.mutation.id === 'h3').map((a) => `${a.status} ${JSON.stringify(a.changes)}`)).to.deep.equal(['RESOLVED {"city":"Linz"}']);
      expect(applied).to.have.length(3);
    } finally {
      await app.close();
    }
  });
});
