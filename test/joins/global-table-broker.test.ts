// Global tables on a real broker: the whole topic (every partition) on every instance, complete
// before the first stream record is processed, kept up to date while running, restored at a
// restart from its checkpoint (only what is new), rebuilt when the checkpoint cannot be trusted,
// and queried on any instance from its own copy. No co-partitioning: the stream here has 1
// partition (or 2), the global topic 3.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { defineApplication, Serdes } from 'sluice';
import type { Application } from '../../engine/runtime/application.ts';
import type { RestoreProgress } from '../../engine/runtime/task/restore.ts';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { getJson } from '../helpers/http.ts';
import { bootstrapServers, createUniqueTopic, produceRecords, RECENT_HOUR, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

/** Orders keyed by their own id, each naming its customer: the global table's key. */
type Order = { item: string; customer: string };

/** Each order, with the name of the customer it names (or nobody). */
const enrichment = (applicationId: string, orders: string, customers: string, output: string) =>
  defineApplication({
    applicationId,
    keySerde: Serdes.string(),
    valueSerde: Serdes.json(),
    topology: (b) =>
      b
        .stream<string, Order>(orders)
        .leftJoin(
          b.globalTable<string, { name: string }>(customers, { name: 'customers' }),
          (_, order) => order.customer,
          (order, customer) => `${order.item} for ${customer?.name ?? 'nobody'}`,
          { name: 'enrich' },
        )
        .to(output, { value: Serdes.string() }),
  });

const rows = (from: number, to: number, suffix = '') => Array.from({ length: to - from }, (_, i) => ({ key: `c${from + i}`, value: JSON.stringify({ name: `name-${from + i}${suffix}` }) }));
const ordersFor = (customers: number[], tag: string, timestamp?: number) =>
  customers.map((c) => ({ key: `${tag}-${c}`, value: JSON.stringify({ item: `${tag}-${c}`, customer: `c${c}` }), timestamp }));
/** The joined outputs by item: `item for name`. */
const joined = async (output: string, count: number) => new Map((await waitForRecords(output, count)).map((r) => [text(r.value)!.split(' for ')[0], text(r.value)]));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('global tables on a broker', function () {
  this.timeout(180_000);
  const apps: Application[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('joins a 1-partition stream with rows of all 3 partitions, complete before the first record, and follows updates while running', async () => {
    const customers = await createUniqueTopic('customers', 3, { 'cleanup.policy': 'compact' });
    const orders = await createUniqueTopic('orders', 1);
    const output = await createUniqueTopic('enriched', 1);
    const applicationId = uniqueName('global-join');
    // Rows first, then orders stamped an hour earlier: a table ordered by time would see none of them.
    await produceRecords(customers, rows(0, 30).map((r) => ({ ...r, timestamp: RECENT_HOUR + 3_600_000 })));
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    try {
      const offsets = await admin.topicOffsets(customers);
      expect(offsets.filter((o) => o.high > 0)).to.have.length(3);
    } finally {
      admin.disconnect();
    }
    await produceRecords(orders, ordersFor([...Array(30).keys()], 'early', RECENT_HOUR));
    const progress: RestoreProgress[] = [];
    const app = await startApplication(enrichment(applicationId, orders, customers, output), {
      applicationId,
      stateDir: tempStateDir(),
      commitIntervalMs: 100,
      http: { port: 0 },
      onRestoreProgress: (p) => progress.push(p),
    });
    apps.push(app);
    // Restored before start() returns, and so before the subscription that brings tasks.
    expect(progress.find((p) => p.tasks.includes('global') && p.done)).to.include({ restored: 30, total: 30 });
    const atStart = await getJson(`${app.endpoint}/v1/stores/customers/range?limit=1000`);
    expect((atStart.body as { entries: unknown[] }).entries).to.have.length(30);
    const first = await joined(output, 30);
    for (let c = 0; c < 30; c++) expect(first.get(`early-${c}`)).to.equal(`early-${c} for name-${c}`);

    // Nothing internal: no repartition topic, no changelog (only the instance directory of the queries).
    const admin2 = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    try {
      expect((await admin2.listTopics()).filter((t) => t.startsWith(applicationId))).to.deep.equal([`${applicationId}-instances`]);
    } finally {
      admin2.disconnect();
    }

    // An update is in the store once applied; orders written after that join with it.
    await produceRecords(customers, [{ key: 'c1', value: JSON.stringify({ name: 'renamed' }) }, { key: 'c40', value: JSON.stringify({ name: 'new' }) }]);
    await waitFor('the update in the global store', async () => {
      const answer = await getJson(`${app.endpoint}/v1/stores/customers/keys/c40`);
      return answer.status === 200 ? answer : undefined;
    });
    const c1 = await getJson(`${app.endpoint}/v1/stores/customers/keys/c1`);
    expect(c1.body).to.deep.equal({ store: 'customers', key: 'c1', value: { name: 'renamed' }, partition: null, instance: app.instanceId });
    await produceRecords(orders, ordersFor([1, 40, 41], 'late'));
    const second = await joined(output, 33);
    expect([second.get('late-1'), second.get('late-40'), second.get('late-41')]).to.deep.equal(['late-1 for renamed', 'late-40 for new', 'late-41 for nobody']);
  });

  it('reads only new records at a restart (checkpoint), and rebuilds from the beginning when the checkpoint is beyond the topic end', async () => {
    const customers = await createUniqueTopic('customers', 3, { 'cleanup.policy': 'compact' });
    const orders = await createUniqueTopic('orders', 1);
    const output = await createUniqueTopic('enriched', 1);
    const applicationId = uniqueName('global-restart');
    const stateDir = tempStateDir();
    await produceRecords(customers, rows(0, 20));
    const progress: RestoreProgress[] = [];
    const start = async () => {
      progress.length = 0;
      const app = await startApplication(enrichment(applicationId, orders, customers, output), {
        applicationId,
        stateDir,
        commitIntervalMs: 100,
        onRestoreProgress: (p) => progress.push(p),
      });
      apps.push(app);
      return app;
    };
    const globalRestore = () => progress.find((p) => p.tasks.includes('global') && p.done);

    let app = await start();
    expect(globalRestore()).to.include({ restored: 20, total: 20 });
    await app.close();
    apps.length = 0;

    await produceRecords(customers, [...rows(20, 22), { key: 'c0', value: JSON.stringify({ name: 'renamed' }) }]);
    app = await start();
    expect(globalRestore()).to.include({ restored: 3, total: 3 });
    await produceRecords(orders, ordersFor([0, 5, 21], 'a'));
    const afterRestart = await joined(output, 3);
    expect([afterRestart.get('a-0'), afterRestart.get('a-5'), afterRestart.get('a-21')]).to.deep.equal(['a-0 for renamed', 'a-5 for name-5', 'a-21 for name-21']);
    await app.close();
    apps.length = 0;

    // A checkpoint beyond the end (the topic deleted and created again, say) is not trusted.
    const file = path.join(stateDir, applicationId, 'global', '.checkpoint');
    const checkpoint = JSON.parse(fs.readFileSync(file, 'utf8')) as { offsets: Record<string, Record<string, number>> };
    expect(Object.keys(checkpoint.offsets[customers]!).sort()).to.deep.equal(['0', '1', '2']);
    checkpoint.offsets[customers]!['0'] = 1_000_000;
    fs.writeFileSync(file, JSON.stringify(checkpoint));
    app = await start();
    expect(globalRestore()).to.include({ restored: 23, total: 23 });
    await produceRecords(orders, ordersFor([0, 7, 20], 'b'));
    const rebuilt = await joined(output, 6);
    expect([rebuilt.get('b-0'), rebuilt.get('b-7'), rebuilt.get('b-20')]).to.deep.equal(['b-0 for renamed', 'b-7 for name-7', 'b-20 for name-20']);
  });

  it('gives two instances the whole table each: both join every row and answer queries from their own copy', async () => {
    const customers = await createUniqueTopic('customers', 3, { 'cleanup.policy': 'compact' });
    const orders = await createUniqueTopic('orders', 2);
    const output = await createUniqueTopic('enriched', 1);
    const applicationId = uniqueName('global-two');
    await produceRecords(customers, rows(0, 24));
    const definition = enrichment(applicationId, orders, customers, output);
    for (let i = 0; i < 2; i++) apps.push(await startApplication(definition, { applicationId, stateDir: tempStateDir(), commitIntervalMs: 100, http: { port: 0 } }));
    await waitFor('both instances to run a task', async () => (apps.every((a) => a.taskIds().length === 1) ? true : undefined), 60_000);

    await produceRecords(orders, [
      ...ordersFor([...Array(24).keys()], 'p0').map((o) => ({ ...o, partition: 0 })),
      ...ordersFor([...Array(24).keys()], 'p1').map((o) => ({ ...o, partition: 1 })),
    ]);
    const out = await joined(output, 48);
    for (let c = 0; c < 24; c++) expect([out.get(`p0-${c}`), out.get(`p1-${c}`)]).to.deep.equal([`p0-${c} for name-${c}`, `p1-${c} for name-${c}`]);

    for (const app of apps) {
      const listed = await getJson(`${app.endpoint}/v1/stores`);
      expect((listed.body as { stores: Array<{ name: string; global?: boolean }> }).stores).to.deep.include({ name: 'customers', global: true, topic: customers, partitions: null, keySerde: 'string', valueSerde: 'json', partitionedByKey: false });
      const range = await getJson(`${app.endpoint}/v1/stores/customers/range?limit=1000`);
      const entries = (range.body as { entries: Array<{ key: string; instance: string }> }).entries;
      expect(entries).to.have.length(24);
      expect(new Set(entries.map((e) => e.instance))).to.deep.equal(new Set([app.instanceId]));
    }
  });
});
