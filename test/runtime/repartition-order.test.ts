import { expect } from 'chai';
import { partitionForKey } from '../../engine/kafka/murmur2.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { bootstrapServers, createUniqueTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';

describe('order through selectKey + repartition', () => {
  it('keeps each key’s records in order across a repartition over 6 partitions', async function () {
    this.timeout(180_000);
    const input = await createUniqueTopic('order-in', 6);
    const output = await createUniqueTopic('order-out', 6);
    const devices = 300;
    const perDevice = 40;
    // Each device's readings are in one input partition, in sequence. The new key is the device's
    // owner; every owner has several devices spread over the input partitions.
    const records = [];
    for (let seq = 0; seq < perDevice; seq++) {
      for (let d = 0; d < devices; d++) records.push({ key: `device-${d}`, value: JSON.stringify({ device: d, owner: `owner-${d % 37}`, seq }) });
    }
    const app = await startApplication(
      defineApplication({
        applicationId: 'reorder',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        topology: (builder) =>
          builder
            .stream<string, { device: number; owner: string; seq: number }>(input)
            .selectKey((_, reading) => reading.owner)
            .repartition({ name: 'by-owner' })
            .to(output),
      }),
    );
    try {
      await produceRecords(input, records);
      const out = await waitForRecords(output, records.length, 90_000);
      expect(out).to.have.length(records.length);
      const lastSeq = new Map<number, number>();
      const partitionOf = new Map<string, number>();
      for (const r of out) {
        const owner = text(r.key)!;
        const { device, seq } = JSON.parse(text(r.value)!);
        // Every owner's records sit in the partition murmur2 gives its key.
        expect(r.partition, owner).to.equal(partitionForKey(Buffer.from(owner), 6));
        if (partitionOf.has(owner)) expect(partitionOf.get(owner)).to.equal(r.partition);
        partitionOf.set(owner, r.partition);
        // No record of a device overtook an earlier one.
        expect(seq, `device ${device}`).to.equal((lastSeq.get(device) ?? -1) + 1);
        lastSeq.set(device, seq);
      }
      expect(lastSeq.size).to.equal(devices);
    } finally {
      await app.close();
    }
  });

  it('passes events older than any time retention through a repartition, and purges what was committed', async function () {
    this.timeout(120_000);
    const input = await createUniqueTopic('old-in', 2);
    const output = await createUniqueTopic('old-out', 2);
    const applicationId = uniqueName('old-events');
    const app = await startApplication(
      defineApplication({
        applicationId: 'old-events',
        keySerde: Serdes.string(),
        valueSerde: Serdes.string(),
        repartitionPurgeIntervalMs: 100,
        topology: (builder) => builder.stream<string, string>(input).selectKey((_, v) => v).repartition({ name: 'by-value' }).to(output),
      }),
      { applicationId, commitIntervalMs: 100 },
    );
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    try {
      // A month old: a broker's default retention (7 days) would delete them from a repartition topic by time.
      const monthAgo = Date.now() - 30 * 24 * 3600_000;
      const records = Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: `v${i % 20}`, timestamp: monthAgo + i }));
      await produceRecords(input, records);
      const out = await waitForRecords(output, records.length);
      expect(out.map((r) => text(r.value)).sort()).to.deep.equal(records.map((r) => r.value).sort());
      expect(Math.min(...out.map((r) => r.timestamp!))).to.equal(monthAgo);
      // Everything read from the repartition topic was committed: its records are deleted.
      const repartition = `${applicationId}-by-value-repartition`;
      const deadline = Date.now() + 30_000;
      let offsets = await admin.topicOffsets(repartition);
      while (offsets.some((o) => o.low < o.high) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        offsets = await admin.topicOffsets(repartition);
      }
      expect(offsets.reduce((n, o) => n + o.high, 0)).to.be.at.least(records.length);
      expect(offsets.filter((o) => o.low < o.high), 'partitions with records left').to.deep.equal([]);
    } finally {
      admin.disconnect();
      await app.close();
    }
  });
});
