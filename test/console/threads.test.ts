// The web console of an instance that runs two stream threads (`sluice run --num-stream-threads
// 2`), reached through the instance's one front server: each thread is an instance of the
// application with its own tasks, and the page shows every one of them with its own lag (asked
// through GET /v1/instances/<name>/metrics, which the server answering forwards to the thread),
// and sums every thread's numbers in the topology.
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { freePort } from '../../engine/local/ports.ts';
import { browserForTests, until } from '../helpers/browser.ts';
import { failoverConfig, Instance } from '../helpers/instances.ts';
import { bootstrapServers, createUniqueTopic, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const TOKEN = 'console-threads-token-0123456789';
const RECORDS = 1_200;

interface Metadata {
  instances: Array<{ instance: string; endpoint: string; tasks: Record<string, string> }>;
}

const texts = (page: Page, selector: string) => page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent ?? ''));

describe('the web console behind the stream threads\' front server (real broker, headless Chromium)', function () {
  this.timeout(180_000);
  let instance: Instance | undefined;
  const tab = browserForTests('console-threads');
  let url: string;
  let input: string;
  let page: Page;
  const get = (path: string) => fetch(url + path, { headers: { authorization: `Bearer ${TOKEN}` } });

  before(async () => {
    input = await createUniqueTopic('console-threads-in', 4);
    const output = await createUniqueTopic('console-threads-out', 4);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const args = ['test/fixtures/topologies/counter.ts', '--application-id', uniqueName('console-threads'), '--config', failoverConfig(), '--state-dir', tempStateDir(), '--num-stream-threads', '2', '--http-port', String(port)];
    instance = new Instance('console-threads', args, { COUNT_INPUT: input, COUNT_OUTPUT: output, SLUICE_HTTP_TOKEN: TOKEN });
    await until(async () => (await get('/readyz').catch(() => undefined))?.status === 200, 'both threads ready', 90_000);
    const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
    await producer.loadPartitionCounts([input]);
    for (let i = 0; i < RECORDS; i++) producer.send({ topic: input, key: Buffer.from(`key-${i % 30}`), value: Buffer.from(String(i)) });
    await producer.disconnect();
    page = await tab.open();
  });

  after(async () => {
    if (instance?.child.exitCode !== null) return;
    instance.child.kill('SIGTERM');
    await instance.exited;
  });

  it('gives each thread\'s own metrics through whichever thread answers, and together they count every record', async () => {
    const metadata = (await (await get('/v1/metadata')).json()) as Metadata;
    expect(metadata.instances).to.have.length(2);
    const read = async () =>
      Promise.all(
        metadata.instances.map(async (i) => {
          const text = await (await get(`/v1/instances/${encodeURIComponent(i.instance)}/metrics`)).text();
          return Number(/^sluice_node_records_total\{node="in"\} (\d+)$/m.exec(text)?.[1] ?? 0);
        }),
      );
    let counts: number[] = [];
    await until(async () => (counts = await read()).reduce((a, b) => a + b, 0) === RECORDS, 'every record counted at the source', 60_000);
    // Each thread owns partitions of the input, so each counted some of the records itself.
    expect(counts.every((n) => n > 0)).to.equal(true);
  });

  it('shows every thread as an instance with its tasks and its own consumer lag', async () => {
    const metadata = (await (await get('/v1/metadata')).json()) as Metadata;
    await page.goto(`${url}/ui/#instances`);
    await page.waitForSelector('#token-input', { visible: true });
    await page.type('#token-input', TOKEN);
    await page.keyboard.press('Enter');
    for (const { instance, tasks } of metadata.instances) {
      const card = `article[data-instance="${instance}"]`;
      await page.waitForSelector(`${card} table[data-table="lag"]`, { timeout: 15_000 });
      expect(await page.$$eval(`${card} table[data-table="tasks"] tbody tr`, (rows) => rows.length)).to.equal(Object.keys(tasks).length);
      // The partitions in its lag table are those of its own tasks.
      const partitions = (await page.$$eval(`${card} table[data-table="lag"] tbody tr`, (rows) => rows.map((r) => [r.children[0]!.textContent, r.children[1]!.textContent]))).filter(([topic]) => topic === input).map(([, p]) => Number(p));
      const own = Object.keys(tasks).map((id) => Number(id.split('_')[1]));
      expect(partitions.sort(), instance).to.deep.equal(own.sort());
    }
  });

  it('sums every thread\'s numbers in the topology', async () => {
    await page.goto(`${url}/ui/#topology`);
    await page.waitForSelector('svg.graph');
    await until(async () => {
      const [summary] = await texts(page, 'dl.facts');
      const metadata = (await (await get('/v1/metadata')).json()) as Metadata;
      return metadata.instances.every((i) => summary!.includes(i.instance));
    }, 'numbers from both threads', 15_000);
    // A rate once two readings are in.
    await until(async () => /^[\d.,]+ rec\/s in$/.test((await texts(page, 'svg.graph [data-name="in"] .stats'))[0] ?? ''), 'the source\'s rate', 10_000);
  });
});
