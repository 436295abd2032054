import { expect } from 'chai';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { text, waitForRecords } from '../helpers/app.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { bootstrapServers, createUniqueTopic, uniqueName } from '../helpers/kafka.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('two instances, one killed with -9 mid-stream', function () {
  this.timeout(240_000);
  const instances = childInstances();

  it('split the partitions, lose no record, and shut down gracefully with everything committed', async () => {
    const input = await createUniqueTopic('failover-in', 6);
    const output = await createUniqueTopic('failover-out', 6);
    const applicationId = uniqueName('failover');
    const config = failoverConfig();
    const start = (name: string) => {
      const instance = new Instance(name, ['test/fixtures/topologies/echo.ts', '--application-id', applicationId, '--config', config], {
        ECHO_INPUT: input,
        ECHO_OUTPUT: output,
      });
      instances.push(instance);
      return instance;
    };

    const a = start('a');
    const b = start('b');
    // Wait until the group has split the partitions between the two.
    const hasWork = (l: Record<string, unknown>) => l.msg === 'partitions assigned' && (l.partitions as string[]).length > 0;
    await Promise.all([a.waitFor(hasWork), b.waitFor(hasWork)]);

    const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
    await producer.loadPartitionCounts([input]);
    const total = 30_000;
    const chunk = 3_000;
    let restarted: Instance | undefined;
    for (let sent = 0; sent < total; sent += chunk) {
      for (let i = sent; i < sent + chunk; i++) producer.send({ topic: input, key: Buffer.from(`key-${i % 500}`), value: Buffer.from(String(i)) });
      await producer.flush();
      if (sent === 3 * chunk) {
        a.child.kill('SIGKILL');
        await a.exited;
      }
      if (sent === 6 * chunk) restarted = start('a-again');
      await sleep(300);
    }
    await producer.disconnect();

    // At least once: duplicates may come first, so wait for every distinct value, not a count.
    const seen = new Set<number>();
    const deadline = Date.now() + 120_000;
    while (seen.size < total && Date.now() < deadline) {
      for (const r of await waitForRecords(output, 0)) seen.add(Number(text(r.value)));
      if (seen.size < total) await sleep(500);
    }
    const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !seen.has(i));
    expect(missing, `missing ${missing.length} records`).to.deep.equal([]);

    await restarted!.waitUntilRunning();
    b.child.kill('SIGTERM');
    restarted!.child.kill('SIGTERM');
    const [bExit, restartedExit] = await Promise.all([b.exited, restarted!.exited]);
    expect(bExit.code, b.tail()).to.equal(0);
    expect(restartedExit.code, restarted!.tail()).to.equal(0);

    // Everything processed is committed: the group's offsets are the end of every partition.
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    try {
      const ends = await admin.topicOffsets(input);
      const committed = await admin.groupOffsets(applicationId);
      for (const { partition, high } of ends) {
        expect(committed.find((c) => c.partition === partition)?.offset, `partition ${partition}`).to.equal(high);
      }
    } finally {
      admin.disconnect();
    }
  });
});
