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

  it('gives back every key and value byte for byte, each its own bytes, around the 8 KB slabs the client copies into', async function () {
    this.timeout(60_000);
    const topic = await createUniqueTopic('round-trip-bytes', 1);
    // Sizes on either side of what the patched client copies into shared slabs (4 KB) and of
    // a slab's end, many small ones filling several slabs, an empty value and a tombstone.
    const sizes = [0, 1, 7, 8, 9, 4095, 4096, 4097, 8191, 8192, 8193, 20_000, ...Array.from({ length: 300 }, (_, i) => (i * 37) % 500)];
    const bytesOf = (i: number, size: number) => Buffer.from(Array.from({ length: size }, (_, j) => (i * 131 + j * 7) % 256));
    const sent = sizes.map((size, i) => ({ key: `key-${i}-${'k'.repeat(i % 50)}`, value: bytesOf(i, size) }));
    await produceRecords(topic, [...sent, { key: 'tombstone', value: null }]);

    const received = await readAll(topic);
    expect(received).to.have.length(sent.length + 1);
    for (let i = 0; i < sent.length; i++) {
      expect(received[i]!.key!.toString(), `key ${i}`).to.equal(sent[i]!.key);
      expect(received[i]!.value, `value ${i} (${sizes[i]} bytes)`).to.not.equal(null);
      expect(received[i]!.value!.equals(sent[i]!.value), `value ${i} (${sizes[i]} bytes)`).to.equal(true);
    }
    expect(received[sent.length]!.value).to.equal(null);
    // No two Buffers share bytes: records next to each other sit next to each other in a slab,
    // so overwriting every other record's key and value must leave its neighbours' intact.
    for (let i = 0; i < sent.length; i += 2) {
      received[i]!.key!.fill(0xff);
      received[i]!.value!.fill(0xff);
    }
    for (let i = 1; i < sent.length; i += 2) {
      expect(received[i]!.key!.toString(), `key ${i} after its neighbours were overwritten`).to.equal(sent[i]!.key);
      expect(received[i]!.value!.equals(sent[i]!.value), `value ${i} after its neighbours were overwritten`).to.equal(true);
    }
  });
});
