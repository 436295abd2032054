// Shutdown is bounded whatever the broker does: SIGTERM while the broker is down ends the
// process within the shutdown timeout, with a clear line saying what could not be done. And a
// close (or SIGTERM) while the application still starts ends the start cleanly, before it joins.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { defaultHome } from '../../engine/local/home.ts';
import { LocalBroker } from '../../engine/local/kafka/local-broker.ts';
import { Application } from '../../engine/runtime/application.ts';
import { Serdes } from '../../engine/index.ts';
import { testLogger } from '../helpers/app.ts';
import { countedFeed } from '../helpers/counted-feed.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { bootstrapServers, createUniqueTopic, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const COUNTER = path.resolve(import.meta.dirname, '../fixtures/topologies/counter.ts');
const SLOW_TO_LOAD = path.resolve(import.meta.dirname, '../fixtures/topologies/slow-to-load.ts');

/** A broker of this test's own (its jars shared with the local broker's), so stopping it disturbs no other test. */
async function privateBroker(): Promise<{ broker: LocalBroker; address: string; pid: number }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-private-broker-'));
  fs.mkdirSync(path.join(home, 'kafka'), { recursive: true });
  fs.symlinkSync(path.join(defaultHome(), 'kafka', 'lib'), path.join(home, 'kafka', 'lib'));
  const broker = new LocalBroker({ home, preferredPort: 19_092 });
  const { address, pid } = await broker.start();
  return { broker, address, pid };
}

describe('shutdown', function () {
  this.timeout(180_000);

  it('ends within the shutdown timeout after SIGTERM while the broker is down', async () => {
    const { broker, address, pid } = await privateBroker();
    let instance: Instance | undefined;
    try {
      const admin = KafkaAdmin.connect({ bootstrapServers: address });
      await admin.createTopics([{ name: 'count-in', partitions: 2 }, { name: 'count-out', partitions: 2 }]);
      admin.disconnect();
      instance = new Instance('counter', [COUNTER, '--state-dir', tempStateDir(), '--shutdown-timeout-ms', '10000'], { KAFKA_BOOTSTRAP_SERVERS: address, COUNT_INPUT: 'count-in', COUNT_OUTPUT: 'count-out' });
      await instance.waitUntilRunning();
      // Records in flight when the broker goes: outputs and positions the last commit cannot make durable.
      const producer = await KafkaProducer.connect({ bootstrapServers: address });
      await producer.loadPartitionCounts(['count-in']);
      for (let i = 0; i < 1000; i++) producer.send({ topic: 'count-in', key: Buffer.from(`k${i % 10}`), value: Buffer.from('x') });
      await producer.flush();
      await producer.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 300));
      process.kill(pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const signalled = Date.now();
      instance.child.kill('SIGTERM');
      const { code } = await instance.exited;
      const took = Date.now() - signalled;
      expect(took, `exited after ${took} ms`).to.be.lessThan(10_000 + 5_000);
      expect(code, 'exit status').to.equal(1);
      const timedOut = instance.log.find((line) => line.msg === 'shutdown timed out; giving up on what was not finished');
      // It names the step it was stuck at: with the broker gone, the last commit or the producer's flush.
      expect(String(timedOut?.err), instance.tail()).to.match(/at its step "(finishing the batch in flight and committing|flushing and closing the producer)"/);
    } finally {
      instance?.child.kill('SIGKILL');
      await broker.stop().catch(() => undefined);
    }
  });

  const instances = childInstances();

  it('a close while the application starts ends the start before it joins the group, and closes cleanly', async () => {
    const input = await createUniqueTopic('start-close-in', 2);
    const applicationId = uniqueName('start-close');
    let joining!: () => void;
    const reachedJoin = new Promise<void>((resolve) => (joining = resolve));
    const app = Application.create(
      {
        applicationId,
        keySerde: Serdes.string(),
        valueSerde: Serdes.string(),
        topology: (builder) => builder.stream<string, string>(input, { name: 'in' }).groupByKey().count({ name: 'counts' }),
      },
      {
        bootstrapServers: bootstrapServers(),
        stateDir: tempStateDir(),
        logger: testLogger(),
        shutdownTimeoutMs: 20_000,
        // A step of the start that does not end by itself, as a long warm-up would not.
        beforeJoin: () => {
          joining();
          return new Promise<void>(() => {});
        },
      },
    );
    const started = app.start();
    await reachedJoin;
    const closing = Date.now();
    await app.close();
    const took = Date.now() - closing;
    await started;
    await app.finished;
    expect(app.state).to.equal('NOT_RUNNING');
    expect(took, `closed after ${took} ms`).to.be.lessThan(10_000);
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    const [group] = await admin.describeGroups([applicationId]);
    admin.disconnect();
    expect(group?.members ?? []).to.deep.equal([]);
  });

  it('SIGTERM while the topology file still loads ends the process at once with status 0, having started nothing', async () => {
    const instance = new Instance('slow-to-load', [SLOW_TO_LOAD, '--state-dir', tempStateDir()], {});
    instances.push(instance);
    await instance.waitFor((l) => l.msg === 'loading the topology file');
    instance.child.kill('SIGTERM');
    const { code, signal } = await instance.exited;
    expect({ code, signal }, instance.tail()).to.deep.equal({ code: 0, signal: null });
    expect(instance.log.map((l) => l.msg)).to.deep.equal(['loading the topology file']);
  });

  it('SIGTERM while a named instance warms up ends it cleanly, without joining the group', async () => {
    const input = await createUniqueTopic('warmup-term-in', 4);
    const output = await createUniqueTopic('warmup-term-out', 4);
    const applicationId = uniqueName('warmup-term');
    const config = failoverConfig({ acceptableRecoveryLag: 0 });
    const start = (name: string) => {
      const instance = new Instance(name, [COUNTER, '--application-id', applicationId, '--config', config, '--state-dir', tempStateDir(), '--instance-name', name], { COUNT_INPUT: input, COUNT_OUTPUT: output });
      instances.push(instance);
      return instance;
    };
    const a = start('node-a');
    await a.waitUntilRunning();
    // Enough state that catching up a copy of it takes a while.
    const feed = await countedFeed(input, 200_000);
    await feed.send(0, 200_000);
    await feed.expectCounted(output, 120_000);
    await feed.close();

    const b = start('node-b');
    await b.waitFor((l) => l.msg === 'warming up the tasks this instance will own before it joins the group');
    b.child.kill('SIGTERM');
    const { code, signal } = await b.exited;
    expect({ code, signal }, b.tail()).to.deep.equal({ code: 0, signal: null });
    expect(b.log.some((l) => l.msg === 'warmed up; joining the group'), 'joined after all').to.equal(false);
    expect(b.log.some((l) => l.msg === 'state changed' && l.to === 'NOT_RUNNING'), b.tail()).to.equal(true);
  });
});
