import { expect } from 'chai';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaConsumer } from '../../engine/kafka/consumer.ts';
import { readRanges, type PartitionRange } from '../../engine/kafka/reader.ts';
import type { ConsumedRecord } from '../../engine/kafka/records.ts';
import { bootstrapServers, createUniqueTopic, produceRecords } from '../helpers/kafka.ts';

/**
 * A range whose start was deleted after the reader was asked for it, as when a repartition
 * topic is purged (records before the committed positions deleted) between a look at its
 * watermarks and the read: the reader reads what is left of the range and ends.
 */
describe('readRanges below the log start (real broker)', function () {
  this.timeout(60_000);
  let consumer: KafkaConsumer;

  beforeEach(async () => {
    consumer = await KafkaConsumer.connect({ bootstrapServers: bootstrapServers() });
  });

  afterEach(async () => {
    await consumer.disconnect();
  });

  /** A topic of one partition with `count` records, and everything before `deleteBefore` deleted. */
  async function purgedTopic(count: number, deleteBefore: number): Promise<string> {
    const topic = await createUniqueTopic('purged', 1);
    await produceRecords(topic, Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: String(i), partition: 0 })));
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    try {
      await admin.deleteRecords([{ topic, partition: 0, offset: deleteBefore }]);
      const [offsets] = await admin.topicOffsets(topic);
      expect(offsets).to.deep.equal({ partition: 0, low: deleteBefore, high: count });
    } finally {
      admin.disconnect();
    }
    return topic;
  }

  async function read(ranges: PartitionRange[]): Promise<ConsumedRecord[]> {
    const records: ConsumedRecord[] = [];
    // Well below the 60 s default: a stalled read fails the test quickly.
    await readRanges(consumer, ranges, (batch) => void records.push(...batch), { stallTimeoutMs: 5_000 });
    return records;
  }

  it('ends at once when every record of the range was deleted', async () => {
    const topic = await purgedTopic(10, 10);
    const started = Date.now();
    expect(await read([{ topic, partition: 0, from: 0, to: 10 }])).to.deep.equal([]);
    expect(Date.now() - started).to.be.below(4_000);
  });

  it('ends when the range lies wholly below the log start', async () => {
    const topic = await purgedTopic(10, 8);
    expect(await read([{ topic, partition: 0, from: 2, to: 6 }])).to.deep.equal([]);
  });

  it('reads the records left when only the start of the range was deleted', async () => {
    const topic = await purgedTopic(10, 6);
    const records = await read([{ topic, partition: 0, from: 0, to: 10 }]);
    expect(records.map((r) => r.offset)).to.deep.equal([6, 7, 8, 9]);
  });

  it('reads the other ranges in full beside a purged one', async () => {
    const purged = await purgedTopic(10, 10);
    const whole = await createUniqueTopic('whole', 1);
    await produceRecords(whole, Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: String(i), partition: 0 })));
    const records = await read([
      { topic: purged, partition: 0, from: 3, to: 10 },
      { topic: whole, partition: 0, from: 0, to: 5 },
    ]);
    expect(records.map((r) => `${r.topic === whole ? 'whole' : 'purged'}@${r.offset}`)).to.deep.equal(['whole@0', 'whole@1', 'whole@2', 'whole@3', 'whole@4']);
  });
});
