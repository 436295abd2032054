import { expect } from 'chai';
import { mutationPriority, type Mutation } from '../../engine/extensions/mutations/index.ts';
import { defineApplication, type ApplicationDefinition } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { createTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir, waitForChangelogEntries } from '../helpers/state.ts';

const MINUTE = 60_000;

function m(id: string, entity: string, operation_type: Mutation['operation_type'], priority: number, minutesAgo = 0): Mutation {
  const [entity_type, entity_id] = entity.split(':') as [string, string];
  return { id, edge_node_id: 'edge-1', entity_type, entity_id, operation_type, attributes: {}, base_version: 1, timestamp: new Date(Date.now() - minutesAgo * MINUTE).toISOString(), priority, dependencies: [] };
}

const keyed = (mutations: Mutation[]) => mutations.map((v) => ({ key: `${v.entity_type}:${v.entity_id}`, value: JSON.stringify(v) }));
const ids = (records: Array<{ value: Buffer | null }>) => records.map((r) => JSON.parse(text(r.value)!).id as string);

function ranking(input: string, output: string, options: { windowMs: number; maxBuffered: number }): ApplicationDefinition {
  return defineApplication({
    applicationId: 'prioritize',
    keySerde: Serdes.string(),
    valueSerde: Serdes.json(),
    topology: (builder) =>
      builder
        .stream<string, Mutation>(input)
        .prioritize({ name: 'rank', store: 'ranked', ...options, priority: mutationPriority({ criticalEntities: ['order'], importantEntities: ['customer'] }) })
        .to(output),
  });
}

describe('prioritize (real broker)', function () {
  this.timeout(120_000);

  it('sends a window best first by adjusted priority, keeping each key in order, when the stream goes quiet', async () => {
    const prefix = uniqueName('prio');
    const [input, output] = [`${prefix}-in`, `${prefix}-out`];
    await createTopic(input, 1);
    await createTopic(output, 1);
    const sent = Date.UTC(2026, 10, 23, 12, 0, 0);
    // Produced before the application starts, so that one window holds them all.
    const records = keyed([
      m('a1', 'customer:1', 'UPDATE', 5), // 6
      m('a2', 'customer:1', 'DELETE', 5), // 8, but after a1: same key
      m('b1', 'order:7', 'UPDATE', 2), // 5
      m('c1', 'note:3', 'CREATE', 4, 20), // 6, made 20 minutes ago; a1 ties and came first
      m('d1', 'note:4', 'UPDATE', 9), // 9
      m('e1', 'product:5', 'UPDATE', 1, 120), // 3, made two hours ago
      m('f1', 'order:8', 'DELETE', 3), // 8
    ]).map((r, i) => ({ ...r, timestamp: sent + i, headers: [{ correlation_id: `corr-${i}` }] }));
    await produceRecords(input, records);
    const app = await startApplication(ranking(input, output, { windowMs: 1_500, maxBuffered: 1_000 }), { commitIntervalMs: 100 });
    try {
      const out = await waitForRecords(output, 7);
      expect(ids(out)).to.deep.equal(['d1', 'f1', 'a1', 'a2', 'c1', 'b1', 'e1']);
      // Each record goes out with its own timestamp and headers.
      for (const record of out) {
        const i = records.findIndex((r) => r.value === text(record.value));
        expect(record.timestamp).to.equal(sent + i);
        expect(text(record.headers?.find((h) => h.correlation_id)?.correlation_id as Buffer)).to.equal(`corr-${i}`);
        expect(text(record.key)).to.equal(records[i]!.key);
      }
    } finally {
      await app.close();
    }
  });

  it('sends the best held records at once when it holds more than maxBuffered', async () => {
    const prefix = uniqueName('prio-bound');
    const [input, output] = [`${prefix}-in`, `${prefix}-out`];
    await createTopic(input, 1);
    await createTopic(output, 1);
    // Any record type: the priority is a field of a plain object.
    const app = await startApplication(
      defineApplication({
        applicationId: 'prioritize-bound',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        topology: (builder) =>
          builder
            .stream<string, { p: number }>(input)
            .prioritize({ name: 'rank', store: 'ranked', maxBuffered: 3, windowMs: 600_000, priority: (_key, value) => value.p })
            .to(output),
      }),
      { commitIntervalMs: 100 },
    );
    try {
      // Held {1, 5, 2}; 8 arrives: 8 goes; 3 arrives: 5 goes; 9 arrives: 9 goes; {1, 2, 3} stay.
      await produceRecords(input, [1, 5, 2, 8, 3, 9].map((p, i) => ({ key: `k${i}`, value: JSON.stringify({ p }) })));
      const out = await waitForRecords(output, 3);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await readAll(output)).map((r) => JSON.parse(text(r.value)!).p)).to.deep.equal([8, 5, 9]);
      expect(out).to.have.length(3);
    } finally {
      await app.close();
    }
  });

  it('keeps held records across a restart on a fresh state directory: each goes out exactly once, ranked', async () => {
    const prefix = uniqueName('prio-restart');
    const [input, output] = [`${prefix}-in`, `${prefix}-out`];
    await createTopic(input, 2);
    await createTopic(output, 2);
    const applicationId = uniqueName('prioritize-restart');
    const mutations = [
      m('r1', 'customer:1', 'UPDATE', 1), // 2
      m('r2', 'customer:1', 'UPDATE', 9), // 10, but after r1: same key
      m('r3', 'order:2', 'DELETE', 5), // 10
      m('r4', 'note:3', 'UPDATE', 4), // 4
      m('r5', 'note:4', 'CREATE', 6, 90), // 9
      m('r6', 'customer:5', 'UPDATE', 3), // 4
    ];
    let app = await startApplication(ranking(input, output, { windowMs: 600_000, maxBuffered: 1_000 }), { applicationId, stateDir: tempStateDir(), commitIntervalMs: 100 });
    try {
      await produceRecords(input, keyed(mutations).map((r, i) => ({ ...r, headers: [{ correlation_id: `corr-r${i + 1}` }] })));
      await waitForChangelogEntries(`${applicationId}-ranked-changelog`, mutations.length);
    } finally {
      await app.close();
    }
    expect(await readAll(output), 'nothing went out before the stop').to.have.length(0);

    // A fresh state directory: the held records come back from the changelog alone.
    app = await startApplication(ranking(input, output, { windowMs: 500, maxBuffered: 1_000 }), { applicationId, stateDir: tempStateDir(), commitIntervalMs: 100 });
    try {
      const out = await waitForRecords(output, mutations.length);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const all = await readAll(output);
      expect(ids(all).sort()).to.deep.equal(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
      expect(all).to.have.length(out.length);
      // Headers (bytes, as consumed) come back from the store as they were.
      for (const record of all) expect(text(record.headers?.find((h) => h.correlation_id)?.correlation_id as Buffer)).to.equal(`corr-${JSON.parse(text(record.value)!).id}`);
      // Per output partition (placed by key), the order is the ranking's.
      const ranked = ['r3', 'r5', 'r4', 'r6', 'r1', 'r2'];
      for (const partition of [0, 1]) {
        const got = ids(all.filter((r) => r.partition === partition));
        expect(got, `partition ${partition}`).to.deep.equal(ranked.filter((id) => got.includes(id)));
      }
    } finally {
      await app.close();
    }
  });
});
