// A clean stop hands a named instance's tasks over: until its restart runs them again, the other
// instances answer its keys from their standby copies, as fresh answers (no ?stale=true), with
// exactly the counts it committed; once it runs again, from it, with what it has counted since.
import { expect } from 'chai';
import path from 'node:path';
import { partitionForKey } from '../../engine/kafka/murmur2.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { countedFeed } from '../helpers/counted-feed.ts';
import { createUniqueTopic, uniqueName } from '../helpers/kafka.ts';
import { freePort } from '../../engine/local/ports.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Metadata {
  instances: Array<{ instance: string; endpoint: string; stores: Record<string, { running: number[]; standby: Array<{ partition: number; lag: number }> }> }>;
}

interface Lookup {
  status: number;
  body: Record<string, unknown>;
}

describe('hand-over on a clean stop (real broker)', function () {
  this.timeout(300_000);
  const instances = childInstances();

  it("answers a stopped named instance's keys from standby copies at its last commit, until it runs them again", async () => {
    const input = await createUniqueTopic('handover-in', 6);
    const output = await createUniqueTopic('handover-out', 6);
    const applicationId = uniqueName('handover');
    // Static membership outlives the stop: the group gives a's partitions to no one meanwhile.
    const config = failoverConfig({ numStandbyReplicas: 1, kafka: { 'session.timeout.ms': 60_000, 'heartbeat.interval.ms': 1_000 } });
    const root = tempStateDir();
    const ports = new Map<string, number>();
    const start = async (name: string) => {
      if (!ports.has(name)) ports.set(name, await freePort());
      const args = ['test/fixtures/topologies/counter.ts', '--application-id', applicationId, '--config', config, '--instance-name', name];
      const instance = new Instance(name, [...args, '--state-dir', path.join(root, name), '--http-port', String(ports.get(name))], { COUNT_INPUT: input, COUNT_OUTPUT: output });
      instances.push(instance);
      await instance.waitUntilRunning();
      return instance;
    };
    const a = await start('a');
    await start('b');
    await start('c');

    const feed = await countedFeed(input);
    await feed.send(0, 20_000);
    await feed.expectCounted(output);
    const url = (name: string, route: string) => `http://127.0.0.1:${ports.get(name)}${route}`;
    const metadata = async () => (await (await fetch(url('b', '/v1/metadata'))).json()) as Metadata;
    let placed: Metadata | undefined;
    for (let i = 0; i < 120; i++) {
      placed = await metadata().catch(() => undefined);
      const standbys = placed?.instances.flatMap((inst) => inst.stores.counts?.standby ?? []) ?? [];
      if (placed?.instances.length === 3 && standbys.length === 6 && standbys.every((s) => s.lag === 0)) break;
      await sleep(500);
    }
    const ofA = placed!.instances.find((i) => i.endpoint.endsWith(`:${ports.get('a')}`))!;
    expect(ofA.stores.counts!.running.length, JSON.stringify(placed)).to.be.above(0);
    const keys = [...feed.truth.keys()].filter((k) => ofA.stores.counts!.running.includes(partitionForKey(Buffer.from(k), 6))).slice(0, 40);
    const lookup = (via: string, key: string): Promise<Lookup> =>
      fetch(url(via, `/v1/stores/counts/keys/${key}`)).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const answers = (via: string) => Promise.all(keys.map((key) => lookup(via, key)));

    a.child.kill('SIGTERM');
    await a.exited;
    const committed = new Map(feed.truth);
    // Every key of a's answers through b and c, from whichever keeps its standby, fresh.
    let seen: Lookup[] = [];
    for (let i = 0; i < 50; i++) {
      seen = [...(await answers('b')), ...(await answers('c'))];
      if (seen.every((s) => s.status === 200)) break;
      await sleep(100);
    }
    expect(seen.filter((s) => s.status !== 200).slice(0, 3), 'lookups not answered within 5 s of the stop').to.deep.equal([]);
    for (const [i, s] of seen.entries()) {
      const key = keys[i % keys.length]!;
      expect(s.body, key).to.deep.include({ key, value: committed.get(key) });
      expect(s.body).to.not.have.property('stale');
    }
    // A scan over every partition too (it asked a's partitions of the standbys' holders).
    const scan = await fetch(url('c', '/v1/stores/counts/range?limit=1000'));
    expect(scan.status, await scan.clone().text()).to.equal(200);
    expect(((await scan.json()) as { entries: unknown[] }).entries).to.have.length(1_000);

    // New records: b and c count theirs; a's wait for a, and its keys still answer its last commit.
    await feed.send(20_000, 6_000);
    await sleep(2_000);
    for (const [i, s] of (await answers('b')).entries()) expect(s.body, keys[i]).to.deep.include({ value: committed.get(keys[i]!) });

    // Once a runs again, its keys answer what it counted since, from a.
    await start('a');
    await feed.expectCounted(output);
    let after: Lookup[] = [];
    for (let i = 0; i < 50; i++) {
      after = await answers('b');
      if (after.every((s, j) => s.status === 200 && s.body.value === feed.truth.get(keys[j]!))) break;
      await sleep(200);
    }
    for (const [j, s] of after.entries()) expect(s.body, keys[j]).to.deep.include({ value: feed.truth.get(keys[j]!), instance: ofA.instance });
    expect(keys.some((k) => feed.truth.get(k) !== committed.get(k)), 'some of its keys counted more after the stop').to.equal(true);
    await feed.close();
  });
});
