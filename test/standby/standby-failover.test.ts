// Standby replicas on a broker: three instances of the counter with numStandbyReplicas 1 keep a
// warm copy of each task where it goes if its owner fails (shown in /v1/metadata with its lag);
// when one is killed with -9, the survivors take its tasks restoring only their changelogs'
// tails, and no record goes uncounted. Meanwhile `?stale=true` answers the killed one's keys from a standby.
import { expect } from 'chai';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { partitionForKey } from '../../engine/kafka/murmur2.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { countedFeed } from '../helpers/counted-feed.ts';
import { bootstrapServers, createUniqueTopic, uniqueName } from '../helpers/kafka.ts';
import { freePort } from '../../engine/local/ports.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Metadata {
  instances: Array<{ instance: string; endpoint: string; stores: Record<string, { running: number[]; standby: Array<{ partition: number; lag: number }> }> }>;
}

describe('standby replicas (real broker)', function () {
  this.timeout(300_000);
  const instances = childInstances();

  it('keeps a warm copy of each task where it goes, and a failover restores only the tails', async () => {
    const input = await createUniqueTopic('standby-in', 6);
    const output = await createUniqueTopic('standby-out', 6);
    const applicationId = uniqueName('standby');
    const config = failoverConfig({ numStandbyReplicas: 1 });
    const ports: number[] = [];
    const start = async (name: string) => {
      const port = await freePort();
      ports.push(port);
      const instance = new Instance(name, ['test/fixtures/topologies/counter.ts', '--application-id', applicationId, '--config', config, '--state-dir', tempStateDir(), '--http-port', String(port)], {
        COUNT_INPUT: input,
        COUNT_OUTPUT: output,
      });
      instances.push(instance);
      return instance;
    };
    const [a, b, c] = [await start('a'), await start('b'), await start('c')];
    const hasWork = (l: Record<string, unknown>) => l.msg === 'partitions assigned' && (l.partitions as string[]).length > 0;
    await Promise.all([a, b, c].map((i) => i.waitFor(hasWork)));

    const feed = await countedFeed(input);
    const { truth } = feed;
    await feed.send(0, 30_000);

    // Every task of the count has one standby, on another instance, caught up.
    const metadata = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/v1/metadata`)).json()) as Metadata;
    let placed: Metadata | undefined;
    for (let i = 0; i < 120; i++) {
      placed = await metadata(ports[0]!).catch(() => undefined);
      const standbys = placed?.instances.flatMap((inst) => inst.stores.counts?.standby ?? []) ?? [];
      if (placed?.instances.length === 3 && standbys.length === 6 && standbys.every((s) => s.lag === 0)) break;
      await sleep(500);
    }
    const counts = placed!.instances.map((inst) => inst.stores.counts!);
    expect(counts.flatMap((s) => s.standby.map((x) => x.partition)).sort()).to.deep.equal([0, 1, 2, 3, 4, 5]);
    for (const s of counts) for (const { partition } of s.standby) expect(s.running).to.not.include(partition);
    expect(counts.flatMap((s) => s.standby).every((s) => s.lag === 0), JSON.stringify(counts)).to.equal(true);

    const restoredSoFar = (i: Instance) => i.log.filter((l) => l.msg === 'restoration finished').reduce((n, l) => n + (l.restored as number), 0);
    const before = { b: restoredSoFar(b), c: restoredSoFar(c) };
    const moved = placed!.instances.find((inst) => inst.endpoint.endsWith(`:${ports[0]}`))!.stores.counts!.running;
    a.child.kill('SIGKILL');
    await a.exited;
    // Until the group notices, a's keys cannot be read, except from a standby with ?stale=true.
    const key = [...truth.keys()].find((k) => moved.includes(partitionForKey(Buffer.from(k), 6)))!;
    const lookup = (stale: boolean) => fetch(`http://127.0.0.1:${ports[1]}/v1/stores/counts/keys/${key}${stale ? '?stale=true' : ''}`).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const plain = await lookup(false);
    const stale = await lookup(true);
    expect(plain.status, JSON.stringify(plain.body)).to.equal(503);
    expect(stale.status, JSON.stringify(stale.body)).to.equal(200);
    expect(stale.body).to.deep.include({ key, value: truth.get(key), stale: true, lag: 0 });
    // The survivors take a's tasks once the group notices (6 s session timeout).
    await Promise.all(
      [b, c].map((i) => i.waitFor((l) => hasWork(l) && (l.partitions as string[]).length > 4, 60_000).catch(() => undefined)),
    );
    await feed.send(30_000, 6_000);
    await feed.expectCounted(output);
    await feed.close();
    // Without standbys the survivors would restore a's whole share of the changelog; with them, the tail.
    const restored = restoredSoFar(b) - before.b + restoredSoFar(c) - before.c;
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    const ends = await admin.topicOffsets(`${applicationId}-counts-changelog`);
    admin.disconnect();
    const share = ends.filter((e) => moved.includes(e.partition)).reduce((n, e) => n + e.high, 0);
    expect(share, "a's share of the changelog").to.be.above(1_000);
    expect(restored, `records restored by the survivors after the kill, of ${share}`).to.be.below(share / 10);
  });
});
