// Warm-up: a named instance that joins a running application first catches up copies of the
// tasks it will own, outside the group, and joins once they are within acceptableRecoveryLag;
// the tasks it then takes restore at most that much, and every count stays right.
import { expect } from 'chai';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { countedFeed } from '../helpers/counted-feed.ts';
import { bootstrapServers, createUniqueTopic, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('warm-up before joining (real broker)', function () {
  this.timeout(300_000);
  const instances = childInstances();

  it('catches up the tasks a named instance will own before it joins, so it restores at most the acceptable lag', async () => {
    const input = await createUniqueTopic('warmup-in', 6);
    const output = await createUniqueTopic('warmup-out', 6);
    const applicationId = uniqueName('warmup');
    const config = failoverConfig({ acceptableRecoveryLag: 100 });
    const stateDirs = new Map<string, string>();
    const start = (name: string, settings = config) => {
      // A restart keeps its state directory.
      const stateDir = stateDirs.get(name) ?? tempStateDir();
      stateDirs.set(name, stateDir);
      const instance = new Instance(name, ['test/fixtures/topologies/counter.ts', '--application-id', applicationId, '--config', settings, '--state-dir', stateDir, '--instance-name', name], {
        COUNT_INPUT: input,
        COUNT_OUTPUT: output,
      });
      instances.push(instance);
      return instance;
    };
    const a = start('node-a');
    await a.waitUntilRunning();
    const b = start('node-b');
    await b.waitUntilRunning();

    const feed = await countedFeed(input);
    await feed.send(0, 30_000);
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    for (let i = 0; i < 120 && (await admin.groupOffsets(applicationId)).reduce((n, o) => n + o.offset, 0) < 30_000; i++) await sleep(250);
    const ends = await admin.topicOffsets(`${applicationId}-counts-changelog`);
    admin.disconnect();

    const c = start('node-c');
    await c.waitFor((l) => l.msg === 'warmed up; joining the group');
    const warmed = c.log.find((l) => l.msg === 'warmed up; joining the group')!.tasks as string[];
    await c.waitFor((l) => l.msg === 'partitions assigned' && (l.tasks as string[]).length > 0);
    const assigned = c.log.find((l) => l.msg === 'partitions assigned' && (l.tasks as string[]).length > 0)!.tasks as string[];
    // It took what it warmed up, restoring at most the acceptable lag (not its share of the changelog).
    expect([...assigned].sort()).to.deep.equal([...warmed].sort());
    const share = ends.filter((e) => assigned.includes(`0_${e.partition}`)).reduce((n, e) => n + e.high, 0);
    const restoredAfterJoin = c.log.filter((l) => l.msg === 'restoration finished').reduce((n, l) => n + (l.restored as number), 0);
    expect(share).to.be.above(1_000);
    expect(restoredAfterJoin, `restored on joining, of a share of ${share}`).to.be.at.most(100 * assigned.length);

    await feed.send(30_000, 3_000);
    await feed.expectCounted(output);

    // Restarted after a clean shutdown, it finds its tasks current on disk (within the default
    // acceptable lag: what the others processed of its partitions while it was away, if anything)
    // and joins at once, without opening copies.
    c.child.kill('SIGTERM');
    expect((await c.exited).code).to.equal(0);
    const again = start('node-c', failoverConfig());
    await again.waitFor((l) => l.msg === 'the tasks this instance will own are current on disk; joining the group');
    await again.waitUntilRunning();
    expect(again.log.some((l) => l.msg === 'standby started' && again.log.findIndex((m) => m.msg === 'state changed' && m.to === 'REBALANCING') > again.log.indexOf(l)), 'copies opened before joining').to.equal(false);
    await feed.send(33_000, 1_000);
    await feed.expectCounted(output);
    await feed.close();
  });
});
