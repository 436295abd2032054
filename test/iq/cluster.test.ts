import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { freePort } from '../../engine/local/ports.ts';
import { COUNTS_STORE } from '../../topologies/event-analytics.ts';
import { createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { tempStateDir } from '../helpers/state.ts';

const TYPES = Array.from({ length: 48 }, (_, i) => `Type${String(i).padStart(2, '0')}`);

interface Answer {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

async function ask(url: string): Promise<Answer> {
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, retryAfter: response.headers.get('retry-after') };
}

const keyUrl = (endpoint: string, key: string) => `${endpoint}/v1/stores/${COUNTS_STORE}/keys/${encodeURIComponent(key)}`;

describe('interactive queries across instances (three child processes of topologies/event-analytics.ts)', function () {
  this.timeout(300_000);
  const instances = childInstances();

  it('answers every key right from every instance, and after a kill -9 only 503 or right answers until every key answers again', async () => {
    const prefix = uniqueName('iq');
    const topic = await createTopic(`${prefix}-events`, 6);
    const applicationId = `${prefix}-ea`;
    const config = failoverConfig();
    const endpoints: string[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      endpoints.push(`http://127.0.0.1:${port}`);
      // Exactly-once: the counts asked for must be exact even if a slow machine makes the group
      // rebalance or lose partitions while the instances start (at-least-once may count twice).
      const args = ['topologies/event-analytics.ts', '--application-id', applicationId, '--state-dir', tempStateDir(), '--http-port', String(port), '--config', config, '--guarantee', 'exactly_once'];
      instances.push(new Instance(`iq-${i}`, args, { EVENTS_TOPIC: topic, EVENTS_DEAD_LETTER_TOPIC: `${prefix}-dead-letter` }));
    }
    await Promise.all(instances.map((i) => i.waitUntilRunning()));

    const truth = new Map<string, number>();
    const records = [];
    for (let n = 0; n < 12_000; n++) {
      const type = TYPES[(n * 7 + Math.floor(n / 13)) % TYPES.length]!;
      truth.set(type, (truth.get(type) ?? 0) + 1);
      const event = { event_id: randomUUID(), event_type: type, aggregate_type: 'User', aggregate_id: `user-${n % 300}`, version: 1, timestamp: new Date().toISOString(), correlation_id: randomUUID(), causation_id: null, data: {} };
      records.push({ key: event.aggregate_id, value: JSON.stringify(event) });
    }
    await produceRecords(topic, records);

    // Every key, asked of every instance, until all answer the true count.
    const wrong = async (among: string[]) => {
      const bad: string[] = [];
      for (const endpoint of among) {
        for (const [type, count] of truth) {
          const answer = await ask(keyUrl(endpoint, type));
          if (answer.status !== 200 || answer.body.value !== count) bad.push(`${endpoint} ${type}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      }
      return bad;
    };
    let deadline = Date.now() + 120_000;
    let bad = await wrong(endpoints);
    while (bad.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      bad = await wrong(endpoints);
    }
    expect(bad, bad.slice(0, 5).join('\n')).to.deep.equal([]);

    // Metadata: three live instances, each partition of the store running on exactly one.
    const metadata = (await ask(`${endpoints[0]}/v1/metadata`)).body as { instances: Array<{ instance: string; endpoint: string; live: boolean; stores: Record<string, { running: number[] }> }> };
    const live = metadata.instances.filter((i) => i.live);
    expect(live.map((i) => i.endpoint).sort()).to.deep.equal([...endpoints].sort());
    expect(live.flatMap((i) => i.stores[COUNTS_STORE]!.running).sort()).to.deep.equal([0, 1, 2, 3, 4, 5]);

    // A scan over every instance, in pages, gives every key once, in key order.
    const scanned: Array<[string, number]> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer = await ask(`${endpoints[1]}/v1/stores/${COUNTS_STORE}/range?limit=20${cursor ? `&cursor=${cursor}` : ''}`);
      expect(answer.status).to.equal(200);
      const page = answer.body as { entries: Array<{ key: string; value: number }>; next: string | null };
      scanned.push(...page.entries.map((e): [string, number] => [e.key, e.value]));
      cursor = page.next;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).to.equal(3);
    expect(scanned).to.deep.equal([...truth].sort(([a], [b]) => (a < b ? -1 : 1)));

    // ?redirect=true sends the client to the owner instead of asking it; the answer names who answered.
    const self = metadata.instances.find((i) => i.endpoint === endpoints[0])!.instance;
    let remoteKey: string | undefined;
    for (const type of truth.keys()) {
      if ((await ask(keyUrl(endpoints[0]!, type))).body.instance !== self) remoteKey = type;
    }
    expect(remoteKey, 'some key lives on another instance').to.not.equal(undefined);
    const redirected = await ask(`${keyUrl(endpoints[0]!, remoteKey!)}?redirect=true`);
    expect(redirected.status).to.equal(307);
    const location = String(redirected.body.location);
    expect(endpoints.filter((e) => e !== endpoints[0]).some((e) => location === keyUrl(e, remoteKey!))).to.equal(true);

    // Kill one instance: until its partitions run elsewhere, their keys answer 503, never a wrong value.
    const killed = instances[2]!;
    killed.child.kill('SIGKILL');
    await killed.exited;
    const survivors = endpoints.slice(0, 2);
    const started = Date.now();
    let unavailable = 0;
    deadline = Date.now() + 120_000;
    for (;;) {
      let answered = 0;
      for (const endpoint of survivors) {
        for (const [type, count] of truth) {
          const answer = await ask(keyUrl(endpoint, type));
          if (answer.status === 200) {
            expect(answer.body.value, `${type} from ${endpoint}`).to.equal(count);
            answered++;
          } else {
            expect(answer.status, JSON.stringify(answer.body)).to.equal(503);
            expect(answer.body.partition).to.be.a('number');
            expect(answer.body.store).to.equal(COUNTS_STORE);
            expect(answer.retryAfter).to.match(/^\d+$/);
            unavailable++;
          }
        }
      }
      if (answered === survivors.length * truth.size) break;
      expect(Date.now(), 'every key answers again within two minutes').to.be.below(deadline);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    console.log(`      (after kill -9: ${unavailable} answers were 503; every key answered again after ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    const after = (await ask(`${endpoints[1]}/v1/metadata`)).body as { instances: Array<{ endpoint: string; live: boolean; stores: Record<string, { running: number[] }> }> };
    expect(after.instances.filter((i) => i.live).flatMap((i) => i.stores[COUNTS_STORE]!.running).sort()).to.deep.equal([0, 1, 2, 3, 4, 5]);
  });
});

