import { expect } from 'chai';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Application } from '../../engine/runtime/application.ts';
import { ConfigError } from '../../engine/errors.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { encodeCursor } from '../../engine/iq/cursor.ts';
import { startApplication } from '../helpers/app.ts';
import { rawRequest } from '../helpers/http.ts';
import { createUniqueTopic, produceRecords } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';
import { seededRandom } from '../../topologies/lib/seeded-random.ts';

const TOKEN = 'a-test-token-of-some-length';

function counter(input: string) {
  return defineApplication({
    applicationId: 'iq-server',
    keySerde: Serdes.string(),
    valueSerde: Serdes.string(),
    topology: (builder) => builder.stream<string, string>(input, { name: 'in' }).groupByKey().count({ name: 'counts' }),
  });
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Generated bad (and odd) requests: paths, parameters, methods, headers. */
function badRequests(count: number, seed: number): string[] {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const junk = (n: number) => Array.from({ length: n }, () => String.fromCharCode(33 + Math.floor(next() * 94))).join('');
  const stores = ['counts', 'nope', '..', '../..', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%252f..%252fetc', 'counts%00', '%00', 'COUNTS', 'counts/..', '%ff', 'x'.repeat(5000), '%E2%80%AE', 'counts%2F..%2F..'];
  const keys = ['k1', '', '%', '%zz', '%C3%28', '%ED%A0%80', '%FF%FE', '%00', 'a%0d%0aSet-Cookie:x', '..%2F..%2F..%2Fetc%2Fpasswd', '%2e%2e', 'k'.repeat(5000), '%41'.repeat(3000), '\u00e9', '%F0%9F%98%80', '😀'];
  const params = [
    'limit=0', 'limit=-1', 'limit=1000000', 'limit=abc', 'limit=1.5', 'limit=', 'limit=1&limit=2', 'limit=1e3',
    'from=z&to=a', 'from=b&to=b', 'cursor=!!!', 'cursor=', 'cursor=eyJzIjoi', `cursor=${encodeCursor('other', Buffer.from('k'))}`,
    'cursor=' + Buffer.from('{"s":"counts","a":"***"}').toString('base64url'), 'scope=everywhere', 'scope=local&partitions=0', 'partitions=99',
    'redirect=maybe', 'redirect=true&redirect=false', 'prefix=' + 'p'.repeat(6000), 'from=%zz', 'to=%', '%=%', '&&&', '=',
  ];
  const methods = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'BREW', 'G ET'];
  const hosts = ['127.0.0.1', '127.0.0.1', 'localhost', 'evil.example', '', '127.0.0.1:1@evil', '[::1]', 'LOCALHOST'];
  const requests: string[] = [];
  for (let i = 0; i < count; i++) {
    const store = pick(stores);
    const path = pick([
      () => `/v1/stores/${store}/keys/${pick(keys)}`,
      () => `/v1/stores/${store}/range?${pick(params)}&${pick(params)}`,
      () => `/v1/stores/${store}/keys/${pick(keys)}?${pick(params)}`,
      () => `/v1/${junk(8)}`,
      () => `/${junk(Math.floor(next() * 40))}`,
      () => `/v1/stores/${store}/keys/`,
      () => `/v1/stores//keys/k1`,
      () => `//v1/stores/counts/keys/k1`,
      () => `/v1/stores/counts/keys/k1/../../../../etc/passwd`,
      () => `http://evil.example/v1/stores/counts/keys/k1`,
      () => `*`,
      () => `/v1/metadata?${pick(params)}`,
      () => `/metrics/${junk(4)}`,
    ])();
    const host = pick(hosts);
    const headers = [host === '' ? '' : `Host: ${host}`, pick(['', 'Authorization: Bearer nonsense', `Content-Length: ${Math.floor(next() * 10)}`, 'Transfer-Encoding: chunked', `X-Junk: ${junk(20)}`, 'Accept: */*'])];
    const version = pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/9.9']);
    requests.push(`${pick(methods)} ${path} ${version}\r\n${headers.filter(Boolean).join('\r\n')}\r\nConnection: close\r\n\r\n`);
  }
  return requests;
}

describe('query server: bad input, fuzzing and security (real broker)', function () {
  this.timeout(180_000);
  let app: Application;
  let port: number;

  before(async () => {
    const input = await createUniqueTopic('iq-server-in', 3);
    await produceRecords(input, Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 30}`, value: String(i) })));
    app = await startApplication(counter(input), { stateDir: tempStateDir(), http: { port: 0 }, commitIntervalMs: 100 });
    port = Number(new URL(app.endpoint!).port);
    await until(async () => (await fetch(`${app.endpoint}/v1/stores/counts/keys/k29`)).status === 200);
  });

  after(async () => app?.close());

  it('answers bad requests with 4xx and a JSON body naming the problem', async () => {
    const cases: Array<[string, number, string]> = [
      ['/v1/stores/nope/keys/k1', 404, 'unknown-store'],
      ['/v1/stores/counts/keys/missing', 404, 'key-not-found'],
      ['/v1/stores/counts/range?limit=0', 400, 'bad-limit'],
      ['/v1/stores/counts/range?limit=100000', 400, 'bad-limit'],
      ['/v1/stores/counts/range?from=z&to=a', 400, 'bad-range'],
      ['/v1/stores/counts/range?cursor=xyz', 400, 'bad-cursor'],
      [`/v1/stores/counts/range?cursor=${encodeCursor('other', Buffer.from('k1'))}`, 400, 'bad-cursor'],
      ['/v1/stores/counts/range?scope=somewhere', 400, 'bad-scope'],
      [`/v1/stores/counts/keys/${'k'.repeat(5000)}`, 400, 'key-too-long'],
      ['/v1/stores/counts/keys/%E0%A4%A', 400, 'bad-request'],
      ['/v1/nothing-here', 404, 'not-found'],
    ];
    for (const [path, status, code] of cases) {
      const response = await fetch(`${app.endpoint}${path}`);
      expect(response.status, path).to.equal(status);
      expect(response.headers.get('content-type'), path).to.match(/application\/json/);
      expect(((await response.json()) as { error: string }).error, path).to.equal(code);
    }
    const found = (await (await fetch(`${app.endpoint}/v1/stores/counts/keys/k3`)).json()) as Record<string, unknown>;
    expect(found).to.include({ store: 'counts', key: 'k3', value: 10, instance: app.instanceId });
    expect(found.partition).to.be.a('number');
  });

  it('survives 10,000 generated bad requests: no 5xx, no crash, and it answers as before', async () => {
    const requests = badRequests(10_000, 20261123);
    const statuses = new Map<number, number>();
    let index = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (index < requests.length) {
          const request = requests[index++]!;
          const { status } = await rawRequest(port, request);
          if (status >= 500) throw new Error(`${status} for ${JSON.stringify(request.slice(0, 300))}`);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    const answered = [...statuses].filter(([s]) => s > 0).reduce((n, [, c]) => n + c, 0);
    expect(answered).to.be.greaterThan(9_000);
    expect([...statuses.keys()].every((s) => s === 0 || (s >= 200 && s < 500))).to.equal(true);
    expect(app.state).to.equal('RUNNING');
    expect((await fetch(`${app.endpoint}/healthz`)).status).to.equal(200);
    const answer = (await (await fetch(`${app.endpoint}/v1/stores/counts/keys/k7`)).json()) as { value: number };
    expect(answer.value).to.equal(10);
  });

  it('refuses Host headers it does not answer for (DNS rebinding), read strictly', async () => {
    const ask = (host: string | undefined) => rawRequest(port, `GET /v1/stores HTTP/1.1\r\n${host === undefined ? '' : `Host: ${host}\r\n`}Connection: close\r\n\r\n`);
    // The issue's two: userinfo before a foreign host, and text after a bracketed loopback address.
    for (const host of ['localhost:80@evil.example', '[::1]evil.example']) {
      const answer = await ask(host);
      expect(answer.status, host).to.equal(400);
      expect(JSON.parse(answer.body).error, host).to.equal('bad-host');
    }
    const refused = await ask('evil.example');
    expect(refused.status).to.equal(403);
    expect(JSON.parse(refused.body).error).to.equal('host-not-allowed');
    for (const host of [`localhost:${port}`, '127.0.0.1', `127.0.0.1:${port}`, 'LOCALHOST', '127.8.9.10', `[::1]:${port}`, '[0:0:0:0:0:0:0:1]']) {
      expect((await ask(host)).status, host).to.equal(200);
    }
    // Well-formed names of other hosts: 403. Not a host and optional port at all: 400.
    for (const host of ['evil.example:80', 'localhost.evil.example', '127.0.0.1.evil.example', '[::2]', 'localhost%2eevil.example']) {
      expect((await ask(host)).status, host).to.equal(403);
    }
    const malformed = [
      '127.0.0.1:1@evil', 'localhost@evil.example', '[::1].evil.example', '[::1]:80evil', '[::1', '::1', '[fe80::1%25eth0]', '[v1.abc]',
      'localhost:', 'localhost:80:80', 'localhost:99999', 'localhost:8o', 'local host', 'localhost/x', 'localhost#x', '',
    ];
    for (const host of malformed) {
      const answer = await ask(host);
      expect(answer.status, JSON.stringify(host)).to.equal(400);
      expect(JSON.parse(answer.body).error, host).to.equal('bad-host');
    }
    const none = await ask(undefined);
    expect(none.status).to.equal(400);
  });

  it('with a token, answers only requests that carry it (health and readiness stay open)', async () => {
    const input = await createUniqueTopic('iq-token-in', 1);
    const guarded = await startApplication(counter(input), { stateDir: tempStateDir(), http: { port: 0, token: TOKEN } });
    try {
      const url = `${guarded.endpoint}/v1/stores`;
      expect((await fetch(url)).status).to.equal(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).to.equal(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).to.equal(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status).to.equal(200);
      expect((await fetch(`${guarded.endpoint}/metrics`)).status).to.equal(401);
      expect((await fetch(`${guarded.endpoint}/healthz`)).status).to.equal(200);
    } finally {
      await guarded.close();
    }
  });

  it('refuses to bind a non-loopback address without a token, naming the ways to give one, before connecting to anything', () => {
    const definition = counter('unused');
    let refusal: unknown;
    try {
      Application.create(definition, { http: { port: 0, host: '0.0.0.0' } });
    } catch (err) {
      refusal = err;
    }
    expect(refusal).to.be.instanceOf(ConfigError);
    const message = (refusal as ConfigError).message;
    expect(message).to.match(/without a token/).and.match(/SLUICE_HTTP_TOKEN environment variable/).and.match(/http\.token in the --config file/);
    expect(message, 'no such flag exists').to.not.match(/--http-token/);
    expect(() => Application.create(definition, { http: { port: 0, allowedHosts: ['ok.example', 'evil@x'] } })).to.throw(ConfigError, /"evil@x"/);
    expect(() => Application.create(definition, { http: { port: 0, host: '0.0.0.0', token: 'short' } })).to.throw(ConfigError, /at least 16/);
    expect(() => Application.create(definition, { http: { port: 0, host: '0.0.0.0', token: TOKEN } })).to.not.throw();
  });

  it('reports metrics in Prometheus text: records per topic, commits, lag, tasks, HTTP requests', async () => {
    const text = await (await fetch(`${app.endpoint}/metrics`)).text();
    expect(text).to.match(/^sluice_records_consumed_total\{topic="iq-server-in-[^"]+"\} 300$/m);
    expect(text).to.match(/^sluice_records_processed_total 300$/m);
    expect(text).to.match(/^sluice_commit_latency_seconds_count [1-9]\d*$/m);
    expect(text).to.match(/^sluice_consumer_lag\{topic="[^"]+",partition="\d"\} 0$/m);
    expect(text).to.match(/^sluice_tasks\{state="running"\} 3$/m);
    expect(text).to.match(/^sluice_http_requests_total\{route="\/v1\/stores\/:store\/keys\/:key",status="200"\} [1-9]\d*$/m);
    expect(text).to.match(/^sluice_process_resident_memory_bytes \d+/m);
    const ready = await fetch(`${app.endpoint}/readyz`);
    expect(ready.status).to.equal(200);
  });
});
