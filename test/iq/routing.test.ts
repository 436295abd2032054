import { expect } from 'chai';
import { freePort } from '../../engine/local/ports.ts';
import { partitionForKey } from '../../engine/kafka/murmur2.ts';
import { seededRandom } from '../../topologies/lib/seeded-random.ts';
import { getJson, sendAll } from '../helpers/http.ts';
import { Instance } from '../helpers/instances.ts';
import { createTopic, produceRecords, uniqueName, type TestRecord } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const PARTITIONS = 6;
const SEEN = 'seen-events';
const COUNTS = 'per-aggregate';
const BASE = Date.parse('2026-01-01T00:00:00Z');
const partitionOf = (key: string) => partitionForKey(Buffer.from(key), PARTITIONS);
const aggregateOf = (i: number) => `agg-${String(i % 40).padStart(2, '0')}`;

/** Two aggregates whose records land in different partitions. */
function twoPartitions(): [string, string] {
  const first = 'agg-00';
  for (let i = 1; i < 40; i++) if (partitionOf(aggregateOf(i)) !== partitionOf(first)) return [first, aggregateOf(i)];
  throw new Error('every aggregate in one partition');
}

const keyUrl = (endpoint: string, store: string, key: string) => `${endpoint}/v1/stores/${store}/keys/${encodeURIComponent(key)}`;

/** Generated malformed and odd requests, a third of them with a forged forwarded header. */
function malformedRequests(count: number, port: number, seed: number): string[] {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const junk = (n: number) => Array.from({ length: n }, () => String.fromCharCode(33 + Math.floor(next() * 94))).join('');
  const stores = [SEEN, SEEN, COUNTS, 'nope', '%2e%2e', '..', '%ff', 'x'.repeat(3000), `${SEEN}%00`];
  const keys = ['ev-1', 'ev-250', 'missing', '..', '.', '%2e%2e', '%', '%zz', '%C3%28', '%ED%A0%80', '%00', 'k'.repeat(5000), '%F0%9F%98%80', 'agg-03'];
  const params = [
    'partitions=0', 'partitions=0,1,2,3,4,5', 'partitions=99', 'partitions=-1', 'partitions=', 'partitions=0&partitions=1', 'scope=local&partitions=1',
    'scope=local', 'scope=all', 'scope=x', 'limit=0', 'limit=1000000', 'limit=3', 'from=z&to=a', 'prefix=ev-1', 'prefix=' + 'p'.repeat(6000),
    'cursor=!!!', 'cursor=eyJzIjoi', 'cursor=' + Buffer.from(`{"s":"${SEEN}","a":"ZXYtMQ==","p":-4}`).toString('base64url'),
    'cursor=' + Buffer.from(`{"s":"${SEEN}","a":"ZXYtMQ==","p":"x"}`).toString('base64url'), 'cursor=' + Buffer.from(`{"s":"${SEEN}","a":"ZXYtMQ==","p":3}`).toString('base64url'),
    'redirect=true', 'redirect=maybe', '%=%', '&&&',
  ];
  const forged = ['1', 'true', '', 'A'.repeat(43), 'x'.repeat(2000), Buffer.alloc(32, 7).toString('base64url'), 'A'.repeat(43) + '='];
  const bodies = ['{', '{"mutation_id":', '[]', 'null', '"x"', '{"__proto__":{"a":1}}', '{"mutation_id":"m","entity_type":"t","entity_id":"e","choices":{"a":"current"}}', '\u0000\u0001', '{"a":' + '['.repeat(5000)];
  const requests: string[] = [];
  for (let i = 0; i < count; i++) {
    const headers = [`Host: ${pick([`127.0.0.1:${port}`, `127.0.0.1:${port}`, `localhost:${port}`, 'localhost:80@evil.example', '[::1]evil.example', '127.0.0.1:99999'])}`];
    if (next() < 0.35) headers.push(`X-Sluice-Forwarded: ${pick(forged)}`);
    if (next() < 0.05) headers.push(`X-Sluice-Forwarded: ${pick(forged)}`);
    if (next() < 0.15) {
      const body = pick(bodies);
      headers.push(`Content-Type: ${pick(['application/json', 'application/json; charset=utf-8', 'text/plain'])}`, `Content-Length: ${Buffer.byteLength(body)}`);
      requests.push(`POST /v1/stores/${pick(['open-conflicts', SEEN])}/resolutions HTTP/1.1\r\n${headers.join('\r\n')}\r\nConnection: close\r\n\r\n${body}`);
      continue;
    }
    const path = pick([
      () => `/v1/stores/${pick(stores)}/keys/${pick(keys)}`,
      () => `/v1/stores/${pick(stores)}/keys/${pick(keys)}?${pick(params)}`,
      () => `/v1/stores/${pick(stores)}/range?${pick(params)}&${pick(params)}`,
      () => `/v1/${junk(6)}`,
      () => `/v1/stores/${SEEN}/keys/ev-1/../../../../etc/passwd`,
      () => '/readyz',
      () => '/v1/metadata',
    ])();
    requests.push(`GET ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\nConnection: close\r\n\r\n`);
  }
  return requests;
}

describe('interactive queries route every store right (two child processes of dedupe-events.ts)', function () {
  this.timeout(300_000);
  const instances: Instance[] = [];
  const endpoints: string[] = [];
  const ports: number[] = [];
  /** event id -> the value seen-events holds (the time first seen) and the partition of its aggregate. */
  const seen = new Map<string, { value: number; partition: number }>();
  const counts = new Map<string, number>();
  const [sharedA, sharedB] = twoPartitions();

  before(async () => {
    const prefix = uniqueName('iq-route');
    const input = await createTopic(`${prefix}-events`, PARTITIONS);
    const records: TestRecord[] = [];
    const send = (id: string, aggregate: string, timestamp: number) => {
      records.push({ key: aggregate, value: JSON.stringify({ event_id: id, aggregate_id: aggregate }), timestamp });
    };
    for (let i = 0; i < 400; i++) {
      send(`ev-${i}`, aggregateOf(i), BASE + i);
      seen.set(`ev-${i}`, { value: BASE + i, partition: partitionOf(aggregateOf(i)) });
      counts.set(aggregateOf(i), (counts.get(aggregateOf(i)) ?? 0) + 1);
    }
    send('ev-7', aggregateOf(7), BASE + 5_000); // a duplicate: dropped, ev-7 keeps its first time
    // One id under two aggregates in two partitions: each partition's dedupe keeps it.
    send('shared-id', sharedA, BASE + 1_000);
    send('shared-id', sharedB, BASE + 2_000);
    counts.set(sharedA, counts.get(sharedA)! + 1);
    counts.set(sharedB, counts.get(sharedB)! + 1);
    await produceRecords(input, records);

    for (let i = 0; i < 2; i++) {
      ports.push(await freePort());
      endpoints.push(`http://127.0.0.1:${ports[i]}`);
      const args = ['test/fixtures/topologies/dedupe-events.ts', '--application-id', `${prefix}-app`, '--state-dir', tempStateDir(), '--http-port', String(ports[i])];
      instances.push(new Instance(`route-${i}`, args, { EVENTS_INPUT: input }));
    }
    await Promise.all(instances.map((i) => i.waitUntilRunning()));
    // Every event counted, and both instances ready (every partition runs, both know it).
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ready = await Promise.all(endpoints.map(async (e) => (await fetch(`${e}/readyz`)).status === 200));
      const scan = await getJson(`${endpoints[0]}/v1/stores/${COUNTS}/range?limit=1000`);
      const total = scan.status === 200 ? (scan.body.entries as Array<{ value: number }>).reduce((n, e) => n + e.value, 0) : 0;
      if (ready.every(Boolean) && total === 402) break;
      if (Date.now() > deadline) throw new Error(`not processed in time: ready ${ready}, counted ${total}\n${instances.map((i) => i.tail()).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  });

  after(() => {
    for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGKILL');
  });

  it('finds a key of a store keyed by event id over records keyed by aggregate id, from every instance, in the partition that holds it', async () => {
    const elsewhere = [...seen.entries()].filter(([id, { partition }]) => partitionOf(id) !== partition).length;
    expect(elsewhere, 'ids whose own partition is not their record key\'s').to.be.greaterThan(300);
    const wrong: string[] = [];
    const instancesSeen = new Set<unknown>();
    for (const endpoint of endpoints) {
      await Promise.all(
        [...seen].map(async ([id, expected]) => {
          const answer = await getJson(keyUrl(endpoint, SEEN, id));
          const body = answer.body;
          if (answer.status !== 200 || body.value !== expected.value || body.partition !== expected.partition || body.key !== id || 'alsoIn' in body) {
            wrong.push(`${endpoint} ${id}: ${answer.status} ${JSON.stringify(body)}`);
          }
          instancesSeen.add(body.instance);
        }),
      );
      const missing = await getJson(keyUrl(endpoint, SEEN, 'never-sent'));
      expect(missing.status, JSON.stringify(missing.body)).to.equal(404);
      expect(missing.body).to.include({ error: 'key-not-found', store: SEEN, key: 'never-sent' });
      // ?redirect=true cannot name one owner here: the instance answers itself.
      const redirected = await getJson(`${keyUrl(endpoint, SEEN, 'ev-3')}?redirect=true`);
      expect(redirected.status).to.equal(200);
      expect(redirected.body.value).to.equal(BASE + 3);
    }
    expect(wrong, wrong.slice(0, 5).join('\n')).to.deep.equal([]);
    expect(instancesSeen.size, 'answers came from both instances').to.equal(2);
  });

  it('still routes a store partitioned by key (the counts per aggregate) to the one partition of the key', async () => {
    for (const endpoint of endpoints) {
      for (const [aggregate, count] of counts) {
        const answer = await getJson(keyUrl(endpoint, COUNTS, aggregate));
        expect(answer.status, `${aggregate}: ${JSON.stringify(answer.body)}`).to.equal(200);
        expect(answer.body).to.include({ value: count, partition: partitionOf(aggregate) });
      }
    }
    const stores = await getJson(`${endpoints[0]}/v1/stores`);
    const flags = Object.fromEntries((stores.body.stores as Array<{ name: string; partitionedByKey: boolean }>).map((s) => [s.name, s.partitionedByKey]));
    expect(flags).to.deep.equal({ [SEEN]: false, [COUNTS]: true });
  });

  it('answers a key held by several partitions with the lowest partition and lists the others', async () => {
    const [low, high] = [partitionOf(sharedA), partitionOf(sharedB)].sort((a, b) => a - b);
    const valueIn = (p: number) => (p === partitionOf(sharedA) ? BASE + 1_000 : BASE + 2_000);
    for (const endpoint of endpoints) {
      const answer = await getJson(keyUrl(endpoint, SEEN, 'shared-id'));
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ key: 'shared-id', partition: low, value: valueIn(low!) });
      const also = answer.body.alsoIn as Array<{ partition: number; value: number; instance: string }>;
      expect(also.map((a) => [a.partition, a.value])).to.deep.equal([[high, valueIn(high!)]]);
      expect(also[0]!.instance).to.be.a('string');
    }
  });

  it('scans a store not partitioned by key in pages: every entry of every partition once, in key then partition order', async () => {
    const expected = [...seen].map(([id, { partition }]) => `${id}@${partition}`);
    expected.push(`shared-id@${partitionOf(sharedA)}`, `shared-id@${partitionOf(sharedB)}`);
    const order = (s: string) => {
      const [id, p] = s.split('@');
      return { id: id!, p: Number(p) };
    };
    expected.sort((a, b) => (order(a).id < order(b).id ? -1 : order(a).id > order(b).id ? 1 : order(a).p - order(b).p));
    for (const endpoint of endpoints) {
      const scanned: string[] = [];
      let cursor: string | null = null;
      do {
        const answer = await getJson(`${endpoint}/v1/stores/${SEEN}/range?limit=37${cursor ? `&cursor=${cursor}` : ''}`);
        expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
        const page = answer.body as { entries: Array<{ key: string; partition: number }>; next: string | null };
        scanned.push(...page.entries.map((e) => `${e.key}@${e.partition}`));
        cursor = page.next;
      } while (cursor !== null && scanned.length < 1_000);
      expect(scanned).to.deep.equal(expected);
      // A page that ends between two partitions' entries of one key: the next page starts with the other.
      const first = await getJson(`${endpoint}/v1/stores/${SEEN}/range?prefix=shared-id&limit=1`);
      const second = await getJson(`${endpoint}/v1/stores/${SEEN}/range?prefix=shared-id&limit=1&cursor=${first.body.next}`);
      const partitions = [first, second].flatMap((a) => (a.body.entries as Array<{ partition: number }>).map((e) => e.partition));
      expect(partitions).to.deep.equal([partitionOf(sharedA), partitionOf(sharedB)].sort((a, b) => a - b));
      expect(second.body.next).to.equal(null);
    }
  });

  it('ignores a forwarded header that does not prove itself: such a request is answered as any client\'s', async () => {
    const forged = ['1', 'A'.repeat(43), Buffer.alloc(32, 9).toString('base64url')];
    for (const endpoint of endpoints) {
      for (const header of forged) {
        for (const [id, expected] of [...seen].slice(0, 60)) {
          const answer = await getJson(keyUrl(endpoint, SEEN, id), { 'x-sluice-forwarded': header });
          expect(answer.status, `${id} with x-sluice-forwarded: ${header}: ${JSON.stringify(answer.body)}`).to.equal(200);
          expect(answer.body.value).to.equal(expected.value);
        }
        for (const aggregate of counts.keys()) {
          const answer = await getJson(keyUrl(endpoint, COUNTS, aggregate), { 'x-sluice-forwarded': header });
          expect(answer.status, `${aggregate} with x-sluice-forwarded: ${header}`).to.equal(200);
        }
        const partitions = await getJson(`${endpoint}/v1/stores/${SEEN}/range?scope=local&partitions=0,1,2,3,4,5`, { 'x-sluice-forwarded': header });
        expect(partitions.status).to.equal(400);
        expect(partitions.body.error).to.equal('bad-parameter');
        const keyPartitions = await getJson(`${keyUrl(endpoint, SEEN, 'ev-1')}?partitions=0`, { 'x-sluice-forwarded': header });
        expect(keyPartitions.status).to.equal(400);
      }
    }
  });

  it('survives generated malformed requests (paths, encodings, parameters, cursors, JSON bodies, Host and forged forwarded headers) without a 5xx', async () => {
    const failures: string[] = [];
    for (const [i, port] of ports.entries()) {
      const statuses = await sendAll(port, malformedRequests(1_500, port, 7_100 + i), 8, (request, status) => {
        if (status >= 500) failures.push(`${status} for ${JSON.stringify(request.slice(0, 300))}`);
      });
      expect([...statuses.keys()].filter((s) => s !== 0 && (s < 200 || s >= 500)), failures.slice(0, 5).join('\n')).to.deep.equal([]);
      expect(statuses.get(200) ?? 0, 'some requests are answered').to.be.greaterThan(50);
    }
    expect(failures.slice(0, 5)).to.deep.equal([]);
    for (const endpoint of endpoints) expect((await getJson(keyUrl(endpoint, SEEN, 'ev-9'))).body.value).to.equal(BASE + 9);
  });

  it('answers 503 with Retry-After, never a wrong 404, while an owner does not answer; right again once it does', async () => {
    const stopped = instances[1]!;
    stopped.child.kill('SIGSTOP');
    try {
      const ids = ['ev-0', 'ev-1', 'ev-2', 'ev-3', 'never-sent'];
      const answers = await Promise.all(ids.map((id) => getJson(keyUrl(endpoints[0]!, SEEN, id))));
      for (const [n, answer] of answers.entries()) {
        expect(answer.status, `${ids[n]}: ${JSON.stringify(answer.body)}`).to.equal(503);
        expect(answer.body.error).to.equal('partition-unavailable');
        expect(answer.body.store).to.equal(SEEN);
        expect(answer.retryAfter).to.match(/^\d+$/);
      }
      const scan = await getJson(`${endpoints[0]}/v1/stores/${SEEN}/range?limit=10`);
      expect(scan.status).to.equal(503);
    } finally {
      stopped.child.kill('SIGCONT');
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const answers = await Promise.all(['ev-0', 'ev-1', 'never-sent'].map((id) => getJson(keyUrl(endpoints[0]!, SEEN, id))));
      if (answers.map((a) => a.status).join() === '200,200,404') break;
      for (const a of answers) expect(a.status, JSON.stringify(a.body)).to.be.oneOf([200, 404, 503]);
      expect(Date.now(), 'answers again within a minute').to.be.below(deadline);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  });
});
