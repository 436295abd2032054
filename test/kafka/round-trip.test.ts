import { expect } from 'chai';
import { partitionForKey } from '../../engine/kafka/murmur2.ts';
import { createUniqueTopic, produceRecords, readAll } from '../helpers/kafka.ts';

describe('keyed round trip through a real broker', () => {
  it('keeps every key in one partition, in the order sent, for 100,000 records over 6 partitions', async function () {
    this.timeout(180_000);
    const topic = await createUniqueTopic('round-trip', 6);
    const keys = 1_000;
    const total = 100_000;
    const sent = Array.from({ length: total }, (_, i) => ({ key: `k${i % keys}`, value: String(i) }));
    await produceRecords(topic, sent);

    const received = await readAll(topic);
    expect(received).to.have.length(total);

    const partitionOf = new Map<string, number>();
    const lastSeq = new Map<string, number>();
    for (const record of received) {
      const key = record.key!.toString();
      const seq = Number(record.value!.toString());
      const partition = partitionOf.get(key);
      if (partition === undefined) partitionOf.set(key, record.partition);
      else expect(record.partition, `partition of ${key}`).to.equal(partition);
      expect(seq, `order of ${key}`).to.be.greaterThan(lastSeq.get(key) ?? -1);
      lastSeq.set(key, seq);
    }
    expect(partitionOf.size).to.equal(keys);
    for (const [key, partition] of partitionOf) {
      expect(partition, `murmur2 placement of ${key}`).to.equal(partitionForKey(Buffer.from(key), 6));
    }
    // Every partition got some keys: the placement is not degenerate.
    expect(new Set(partitionOf.values()).size).to.equal(6);
  });
});
