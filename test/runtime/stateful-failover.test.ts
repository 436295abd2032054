import { expect } from 'chai';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { text } from '../helpers/app.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { bootstrapServers, createUniqueTopic, readAll, uniqueName } from '../helpers/kafka.ts';
import { readChangelog, readStoreFromDisk, tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('stateful instances, one killed with -9 mid-stream (at-least-once)', function () {
  this.timeout(300_000);
  const instances = childInstances();

  it('moves tasks with their state, counts no key below its true count, and keeps every store equal to its changelog', async () => {
    const input = await createUniqueTopic('sfail-in', 6);
    const output = await createUniqueTopic('sfail-out', 6);
    const applicationId = uniqueName('sfail');
    const changelog = `${applicationId}-counts-changelog`;
    const config = failoverConfig();
    const dirs = { a: tempStateDir(), b: tempStateDir() };
    const start = (name: string, stateDir: string) => {
      const instance = new Instance(name, ['test/fixtures/topologies/counter.ts', '--application-id', applicationId, '--config', config, '--state-dir', stateDir], {
        COUNT_INPUT: input,
        COUNT_OUTPUT: output,
      });
      instances.push(instance);
      return instance;
    };
    const restoredRecords = (i: Instance) =>
      i.log.filter((l) => l.msg === 'restoration finished').reduce((n, l) => n + (l.restored as number), 0);

    const a = start('a', dirs.a);
    const b = start('b', dirs.b);
    const hasWork = (l: Record<string, unknown>) => l.msg === 'partitions assigned' && (l.partitions as string[]).length > 0;
    await Promise.all([a.waitFor(hasWork), b.waitFor(hasWork)]);

    const keys = 2_000;
    const total = 60_000;
    const chunk = 5_000;
    const truth = new Map<string, number>();
    const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
    await producer.loadPartitionCounts([input]);
    let restarted: Instance | undefined;
    let bRestoredBeforeKill = 0;
    for (let sent = 0; sent < total; sent += chunk) {
      for (let i = sent; i < sent + chunk; i++) {
        const key = `key-${(i * 7919) % keys}`;
        truth.set(key, (truth.get(key) ?? 0) + 1);
        producer.send({ topic: input, key: Buffer.from(key), value: Buffer.from(String(i)) });
      }
      await producer.flush();
      if (sent === 3 * chunk) {
        bRestoredBeforeKill = restoredRecords(b);
        a.child.kill('SIGKILL');
        await a.exited;
        // Once the group notices, b takes a's tasks, restoring their stores from the changelog.
        await b.waitFor(() => restoredRecords(b) > bRestoredBeforeKill, 60_000);
      }
      if (sent === 7 * chunk) restarted = start('a-again', dirs.a);
      await sleep(400);
    }
    await producer.disconnect();

    // Every key's latest count reaches its true count; at-least-once may overcount, never undercount.
    const latest = new Map<string, number>();
    const deadline = Date.now() + 120_000;
    const short = () => [...truth].filter(([key, n]) => (latest.get(key) ?? 0) < n);
    while (short().length > 0 && Date.now() < deadline) {
      for (const r of await readAll(output)) latest.set(text(r.key)!, JSON.parse(text(r.value)!));
      if (short().length > 0) await sleep(500);
    }
    expect(short().slice(0, 5), `${short().length} keys below their true count`).to.deep.equal([]);

    await restarted!.waitUntilRunning();
    b.child.kill('SIGTERM');
    restarted!.child.kill('SIGTERM');
    const [bExit, restartedExit] = await Promise.all([b.exited, restarted!.exited]);
    expect(bExit.code, b.tail()).to.equal(0);
    expect(restartedExit.code, restarted!.tail()).to.equal(0);

    // One instance on a's state takes every task: each store, restored from its checkpoint or in
    // full, agrees exactly with its changelog, and no count is below the truth.
    const last = start('a-alone', dirs.a);
    await last.waitUntilRunning();
    await last.waitFor((l) => l.msg === 'partitions assigned' && (l.partitions as string[]).length === 6);
    last.child.kill('SIGTERM');
    expect((await last.exited).code, last.tail()).to.equal(0);
    const stored = await readStoreFromDisk(dirs.a, applicationId, 'counts');
    const logged = await readChangelog(changelog);
    expect(stored.size).to.equal(keys);
    expect(Object.fromEntries(stored)).to.deep.equal(Object.fromEntries(logged));
    for (const [key, n] of truth) expect(Number(stored.get(key)), key).to.be.at.least(n);
  });
});
