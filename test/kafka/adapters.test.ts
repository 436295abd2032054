import { expect } from 'chai';
import { DeliveryError, KafkaOperationError } from '../../engine/errors.ts';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaConsumer } from '../../engine/kafka/consumer.ts';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import type { ConsumedRecord } from '../../engine/kafka/records.ts';
import { bootstrapServers, createUniqueTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';

async function consumeUntil(consumer: KafkaConsumer, count: number, timeoutMs = 20_000): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (records.length < count && Date.now() < deadline) records.push(...(await consumer.consume(1000, 200)));
  return records;
}

describe('Kafka adapters', () => {
  describe('admin', () => {
    it('creates, describes and deletes topics', async () => {
      const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
      const name = uniqueName('admin');
      try {
        await admin.createTopics([{ name, partitions: 4, config: { 'cleanup.policy': 'compact' } }]);
        // Creating it again is not an error.
        await admin.createTopics([{ name, partitions: 4 }]);
        const [described] = await admin.describeTopics([name]);
        expect(described).to.deep.equal({ name, partitions: 4, ready: true });
        await admin.deleteTopics([name]);
        let remaining = await admin.describeTopics([name]);
        for (let i = 0; i < 50 && remaining.length > 0; i++) {
          await new Promise((r) => setTimeout(r, 100));
          remaining = await admin.describeTopics([name]);
        }
        expect(remaining).to.deep.equal([]);
      } finally {
        admin.disconnect();
      }
    });

    it('reports the low and high offsets of each partition, and none for a missing topic', async () => {
      const topic = await createUniqueTopic('offsets', 2);
      await produceRecords(topic, [
        { key: null, value: 'a', partition: 0 },
        { key: null, value: 'b', partition: 0 },
        { key: null, value: 'c', partition: 1 },
      ]);
      const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
      try {
        expect(await admin.topicOffsets(topic)).to.deep.equal([
          { partition: 0, low: 0, high: 2 },
          { partition: 1, low: 0, high: 1 },
        ]);
        // A topic that does not exist has no partitions; it is not one with empty ones.
        expect(await admin.topicOffsets(uniqueName('absent'))).to.deep.equal([]);
      } finally {
        admin.disconnect();
      }
    });
  });

  describe('consumer', () => {
    it('commits only what it is told to, and a new member resumes from there', async () => {
      const topic = await createUniqueTopic('commit', 1);
      const groupId = uniqueName('group');
      await produceRecords(topic, Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: String(i) })));

      const first = await KafkaConsumer.connect({ bootstrapServers: bootstrapServers(), groupId });
      first.subscribe([topic]);
      const seen = await consumeUntil(first, 10);
      expect(seen.map((r) => r.value!.toString())).to.deep.equal(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      await first.commit([{ topic, partition: 0, offset: 4 }]);
      await first.disconnect();

      const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
      expect(await admin.groupOffsets(groupId)).to.deep.equal([{ topic, partition: 0, offset: 4 }]);
      const [group] = await admin.describeGroups([groupId]);
      expect(group!.groupId).to.equal(groupId);
      expect(group!.state, 'no member left').to.equal('EMPTY');
      admin.disconnect();

      const second = await KafkaConsumer.connect({ bootstrapServers: bootstrapServers(), groupId });
      second.subscribe([topic]);
      const again = await consumeUntil(second, 6);
      expect(again.map((r) => r.offset)).to.deep.equal([4, 5, 6, 7, 8, 9]);
      await second.disconnect();
    });

    it('pauses and resumes a partition', async () => {
      const topic = await createUniqueTopic('pause', 2);
      const consumer = await KafkaConsumer.connect({ bootstrapServers: bootstrapServers() });
      consumer.assign([
        { topic, partition: 0, offset: 0 },
        { topic, partition: 1, offset: 0 },
      ]);
      consumer.pause([{ topic, partition: 1 }]);
      await produceRecords(topic, [
        { key: null, value: 'p0', partition: 0 },
        { key: null, value: 'p1', partition: 1 },
      ]);
      const whilePaused = await consumeUntil(consumer, 2, 3_000);
      expect(whilePaused.map((r) => r.partition)).to.deep.equal([0]);
      consumer.resume([{ topic, partition: 1 }]);
      const afterResume = await consumeUntil(consumer, 1);
      expect(afterResume.map((r) => r.value!.toString())).to.deep.equal(['p1']);
      await consumer.disconnect();
    });

    it('hands partitions over through the rebalance listener, revoking before assigning elsewhere', async () => {
      const topic = await createUniqueTopic('rebalance', 4);
      const groupId = uniqueName('group');
      const events: string[] = [];
      const listener = (name: string) => ({
        assigned: (p: Array<{ partition: number }>) => void events.push(`${name}+${p.map((x) => x.partition).join(',')}`),
        revoked: async (p: Array<{ partition: number }>) => {
          await new Promise((r) => setTimeout(r, 200)); // a revoke may finish work first
          events.push(`${name}-${p.map((x) => x.partition).join(',')}`);
        },
      });
      const a = await KafkaConsumer.connect({ bootstrapServers: bootstrapServers(), groupId, rebalance: listener('a') });
      a.subscribe([topic]);
      await consumeUntil(a, 1, 5_000);
      expect(a.assignment()).to.have.length(4);

      const b = await KafkaConsumer.connect({ bootstrapServers: bootstrapServers(), groupId, rebalance: listener('b') });
      b.subscribe([topic]);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && (a.assignment().length !== 2 || b.assignment().length !== 2)) {
        await Promise.all([a.consume(100, 100), b.consume(100, 100)]);
      }
      expect(a.assignment()).to.have.length(2);
      expect(b.assignment()).to.have.length(2);
      const revokedByA = events.find((e) => e.startsWith('a-'));
      const assignedToB = events.find((e) => e.startsWith('b+') && e !== 'b+');
      expect(revokedByA, events.join(' ')).to.be.a('string');
      expect(events.indexOf(revokedByA!)).to.be.lessThan(events.indexOf(assignedToB!));
      await Promise.all([a.disconnect(), b.disconnect()]);
    });

    it('runs no rebalance listener once closing: whoever closes has finished with its partitions, and the client goes away under the close', async () => {
      const topic = await createUniqueTopic('close-revoke', 2);
      await produceRecords(topic, [{ key: null, value: 'x', partition: 0 }]);
      const events: string[] = [];
      const consumer = await KafkaConsumer.connect({
        bootstrapServers: bootstrapServers(),
        groupId: uniqueName('group'),
        rebalance: {
          assigned: () => void events.push('assigned'),
          revoked: async () => {
            events.push('revoke started');
            // Work a revoke does (a commit through a producer) would meet a client already freed.
            await new Promise((r) => setTimeout(r, 300));
            events.push('revoke finished');
          },
        },
      });
      consumer.subscribe([topic]);
      await consumeUntil(consumer, 1, 10_000);
      expect(events).to.deep.equal(['assigned']);
      await consumer.disconnect();
      events.push('disconnected');
      await new Promise((r) => setTimeout(r, 600));
      expect(events).to.deep.equal(['assigned', 'disconnected']);
    });
  });

  describe('producer', () => {
    it('reports a record the broker cannot take as a typed error, not a silent loss', async () => {
      const topic = await createUniqueTopic('bad-partition', 1);
      const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
      try {
        await producer.loadPartitionCounts([topic]);
        let error: unknown;
        try {
          producer.send({ topic, key: null, value: Buffer.from('x'), partition: 7 });
          await producer.flush(30_000);
        } catch (err) {
          error = err;
        }
        expect(error).to.satisfy((e: unknown) => e instanceof DeliveryError || e instanceof KafkaOperationError);
        // The producer stays usable for good records.
        producer.send({ topic, key: Buffer.from('k'), value: Buffer.from('ok') });
        await producer.flush();
        expect((await readAll(topic)).map((r) => r.value!.toString())).to.deep.equal(['ok']);
      } finally {
        await producer.disconnect();
      }
    });

    it('learns after a flush, at most once a second, how far each tracked partition written since is acknowledged', async () => {
      const topic = await createUniqueTopic('acknowledged', 2);
      const other = await createUniqueTopic('untracked', 1);
      const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
      try {
        producer.trackDeliveredOffsets([topic]);
        const send = (partition: number, n: number) => {
          for (let i = 0; i < n; i++) producer.send({ topic, partition, key: Buffer.from(`k${i}`), value: Buffer.from('v') });
        };
        expect(producer.deliveredOffset(topic, 0)).to.equal(undefined);
        send(0, 3);
        send(1, 2);
        producer.send({ topic: other, partition: 0, key: null, value: Buffer.from('x') });
        expect(producer.inFlight).to.equal(6);
        await producer.flush();
        expect(producer.inFlight).to.equal(0);
        expect([producer.deliveredOffset(topic, 0), producer.deliveredOffset(topic, 1)]).to.deep.equal([2, 1]);
        expect(producer.deliveredOffset(other, 0)).to.equal(undefined);
        send(0, 1);
        await producer.flush();
        // Within the second: not learnt yet (a checkpoint a little behind only replays a little more).
        expect(producer.deliveredOffset(topic, 0)).to.equal(2);
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        await producer.flush();
        expect([producer.deliveredOffset(topic, 0), producer.deliveredOffset(topic, 1)]).to.deep.equal([3, 1]);
      } finally {
        await producer.disconnect();
      }
    });

    it('with a report per record, knows each record\'s own offset at once', async () => {
      const topic = await createUniqueTopic('reported', 1);
      const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers(), deliveryReports: 'all' });
      try {
        producer.trackDeliveredOffsets([topic]);
        for (let round = 0; round < 3; round++) {
          producer.send({ topic, partition: 0, key: null, value: Buffer.from(`v${round}`) });
          await producer.flush();
          expect(producer.deliveredOffset(topic, 0)).to.equal(round);
        }
      } finally {
        await producer.disconnect();
      }
    });

    it('fails the flush with every refused record counted, however many, and carries none to the next flush', async () => {
      // More refusals than the client hands over in one turn of the event loop (100).
      const refusedCount = 250;
      const topic = await createUniqueTopic('refused', 1, { 'max.message.bytes': '1024' });
      const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
      try {
        for (let i = 0; i < refusedCount; i++) producer.send({ topic, partition: 0, key: null, value: Buffer.alloc(4_000, 1) });
        let error: unknown;
        try {
          await producer.flush(30_000);
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(DeliveryError);
        expect((error as DeliveryError).failed).to.equal(refusedCount);
        expect((error as DeliveryError).tooLarge).to.equal(refusedCount);
        producer.send({ topic, partition: 0, key: null, value: Buffer.from('ok') });
        await producer.flush(30_000);
        expect((await readAll(topic)).map((r) => r.value!.toString())).to.deep.equal(['ok']);
      } finally {
        await producer.disconnect();
      }
    });
  });
});
