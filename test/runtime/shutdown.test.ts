// Shutdown is bounded whatever the broker does: SIGTERM while the broker is down ends the
// process within the shutdown timeout, with a clear line saying what could not be done.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { defaultHome } from '../../engine/local/home.ts';
import { LocalBroker } from '../../engine/local/kafka/local-broker.ts';
import { Instance } from '../helpers/instances.ts';
import { tempStateDir } from '../helpers/state.ts';

const COUNTER = path.resolve(import.meta.dirname, '../fixtures/topologies/counter.ts');

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
      expect(instance.log.some((line) => line.msg === 'shutdown timed out; giving up on what was not finished')).to.equal(true);
    } finally {
      instance?.child.kill('SIGKILL');
      await broker.stop().catch(() => undefined);
    }
  });
});
