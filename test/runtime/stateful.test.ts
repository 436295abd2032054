import fs from 'node:fs';
import { expect } from 'chai';
import { ApplicationError } from '../../engine/errors.ts';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import type { RestoreProgress } from '../../engine/runtime/task/restore.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import type { ProcessorSupplier } from '../../engine/processors/processor.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { counter } from '../helpers/counter.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { bootstrapServers, createTopic, createUniqueTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { readChangelog, readCheckpointFile, readStoreFromDisk, tempStateDir } from '../helpers/state.ts';

/** The latest value per key of an output topic. */
async function latest(topic: string): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  for (const r of await readAll(topic)) values.set(text(r.key)!, JSON.parse(text(r.value)!));
  return values;
}

async function waitForCounts(topic: string, expected: Map<string, number>, timeoutMs = 60_000): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await latest(topic);
    const done = [...expected].every(([k, n]) => (counts.get(k) ?? 0) >= n);
    if (done || Date.now() > deadline) return counts;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function records(from: number, to: number, keys: number) {
  return Array.from({ length: to - from }, (_, i) => ({ key: `k${(from + i) % keys}`, value: String(from + i) }));
}

function trueCounts(n: number, keys: number, into = new Map<string, number>()): Map<string, number> {
  for (let i = 0; i < n; i++) into.set(`k${i % keys}`, (into.get(`k${i % keys}`) ?? 0) + 1);
  return into;
}

describe('stateful counting on LevelDB with changelogs', function () {
  this.timeout(240_000);

  it('counts 100,000 records over 10,000 keys exactly, in the output, the store and its changelog', async () => {
    const input = await createUniqueTopic('count-in', 4);
    const output = await createUniqueTopic('count-out', 4);
    const applicationId = uniqueName('counter');
    const stateDir = tempStateDir();
    const app = await startApplication(counter(input, output), { applicationId, stateDir });
    const expected = trueCounts(100_000, 10_000);
    try {
      await produceRecords(input, records(0, 100_000, 10_000));
      const counts = await waitForCounts(output, expected);
      expect(counts.size).to.equal(10_000);
      for (const [key, n] of expected) expect(counts.get(key), key).to.equal(n);
    } finally {
      await app.close();
    }
    const changelog = `${applicationId}-counts-changelog`;
    const logged = await readChangelog(changelog);
    const stored = await readStoreFromDisk(stateDir, applicationId, 'counts');
    expect(stored.size).to.equal(10_000);
    for (const [key, n] of expected) {
      expect(Number(stored.get(key)), `store ${key}`).to.equal(n);
      expect(Number(logged.get(key)), `changelog ${key}`).to.equal(n);
    }
    // The changelog is compacted, keyed like the store, with the source's partition count.
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    expect(await admin.describeTopics([changelog])).to.deep.equal([{ name: changelog, partitions: 4, ready: true }]);
    admin.disconnect();
  });

  it('restores only the changelog tail after a graceful stop, and everything after its state is deleted', async () => {
    const input = await createUniqueTopic('restore-in', 2);
    const output = await createUniqueTopic('restore-out', 2);
    const applicationId = uniqueName('counter');
    const changelog = `${applicationId}-counts-changelog`;
    const mine = tempStateDir();
    const other = tempStateDir();
    const keys = 500;
    const expected = new Map<string, number>();
    const progress: RestoreProgress[] = [];
    const restored = () => progress.filter((p) => p.done).reduce((n, p) => n + p.restored, 0);

    // 1. Run, stop gracefully: a checkpoint at the changelog's end.
    let app = await startApplication(counter(input, output), { applicationId, stateDir: mine });
    await produceRecords(input, records(0, 5_000, keys));
    await waitForCounts(output, trueCounts(5_000, keys, expected));
    await app.close();
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    const endAfterFirst = await admin.topicOffsets(changelog);
    for (const { partition, high } of endAfterFirst) {
      expect(readCheckpointFile(mine, applicationId, `0_${partition}`)?.[changelog]?.[String(partition)]).to.equal(high);
    }

    // 2. Restart on the same state: nothing to replay.
    app = await startApplication(counter(input, output), { applicationId, stateDir: mine, onRestoreProgress: (p) => progress.push(p) });
    await produceRecords(input, records(5_000, 6_000, keys));
    await waitForCounts(output, trueCounts(1_000, keys, expected));
    await app.close();
    expect(restored()).to.equal(0);

    // 3. Another instance (other state) moves the changelog on; back on ours, only that tail is replayed.
    const before = await admin.topicOffsets(changelog);
    app = await startApplication(counter(input, output), { applicationId, stateDir: other });
    await produceRecords(input, records(6_000, 9_000, keys));
    await waitForCounts(output, trueCounts(3_000, keys, expected));
    await app.close();
    const after = await admin.topicOffsets(changelog);
    const tail = after.reduce((n, p) => n + p.high, 0) - before.reduce((n, p) => n + p.high, 0);
    expect(tail).to.be.greaterThan(0);
    progress.length = 0;
    app = await startApplication(counter(input, output), { applicationId, stateDir: mine, onRestoreProgress: (p) => progress.push(p) });
    await produceRecords(input, records(9_000, 9_500, keys));
    await waitForCounts(output, trueCounts(500, keys, expected));
    await app.close();
    expect(restored(), 'records replayed').to.equal(tail);

    // 4. Delete our state: a full restore gives the same state, and counting goes on from it.
    fs.rmSync(mine, { recursive: true, force: true });
    const full = await admin.topicOffsets(changelog);
    progress.length = 0;
    app = await startApplication(counter(input, output), { applicationId, stateDir: mine, onRestoreProgress: (p) => progress.push(p) });
    await produceRecords(input, records(9_500, 10_000, keys));
    const counts = await waitForCounts(output, trueCounts(500, keys, expected));
    await app.close();
    admin.disconnect();
    expect(restored(), 'full restore').to.equal(full.reduce((n, p) => n + p.high - p.low, 0));
    for (const [key, n] of expected) expect(counts.get(key), key).to.equal(n);
    const stored = await readStoreFromDisk(mine, applicationId, 'counts');
    const logged = await readChangelog(changelog);
    expect(Object.fromEntries(stored)).to.deep.equal(Object.fromEntries(logged));
  });

  it('refuses to start when the changelog has another partition count than the source', async () => {
    const input = await createUniqueTopic('mismatch-in', 3);
    const output = await createUniqueTopic('mismatch-out', 3);
    const applicationId = uniqueName('counter');
    await createTopic(`${applicationId}-counts-changelog`, 5, { 'cleanup.policy': 'compact' });
    let error: unknown;
    await startApplication(counter(input, output), { applicationId, stateDir: tempStateDir() }).catch((err) => (error = err));
    expect(error).to.be.instanceOf(ApplicationError);
    expect((error as Error).message).to.contain(`"${applicationId}-counts-changelog" has 5 partitions but the topology needs 3`);
  });

  it('groups by a new key through a repartition topic, and reduces and aggregates', async () => {
    const input = await createUniqueTopic('group-in', 3);
    const totals = await createUniqueTopic('group-totals', 3);
    const maxima = await createUniqueTopic('group-max', 3);
    const app = await startApplication(
      defineApplication({
        applicationId: 'grouping',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        topology: (builder) => {
          const orders = builder.stream<string, { customer: string; amount: number }>(input);
          orders
            .groupBy((_, o) => o.customer)
            .aggregate(() => ({ orders: 0, total: 0 }), (_, o, agg) => ({ orders: agg.orders + 1, total: agg.total + o.amount }), { name: 'totals' })
            .toStream()
            .to(totals);
          orders
            .mapValues((o) => o.amount)
            .groupByKey()
            .reduce((a, b) => Math.max(a, b), { name: 'max-amount', value: Serdes.json<number>() })
            .toStream()
            .to(maxima);
        },
      }),
      { stateDir: tempStateDir() },
    );
    try {
      expect(app.topology.internalTopics.map((t) => t.name).sort()).to.deep.equal(
        [`${app.topology.applicationId}-max-amount-changelog`, `${app.topology.applicationId}-totals-changelog`, `${app.topology.applicationId}-totals-repartition`].sort(),
      );
      const orders = Array.from({ length: 300 }, (_, i) => ({ key: `order-${i}`, value: JSON.stringify({ customer: `c${i % 7}`, amount: i }) }));
      await produceRecords(input, orders);
      await waitForRecords(totals, 7);
      const deadline = Date.now() + 30_000;
      let result = new Map<string, { orders: number; total: number }>();
      while (Date.now() < deadline) {
        result = new Map((await readAll(totals)).map((r) => [text(r.key)!, JSON.parse(text(r.value)!)]));
        if ([...result.values()].reduce((n, v) => n + v.orders, 0) === 300) break;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      for (let c = 0; c < 7; c++) {
        const mine = orders.map((_, i) => i).filter((i) => i % 7 === c);
        expect(result.get(`c${c}`)).to.deep.equal({ orders: mine.length, total: mine.reduce((a, b) => a + b, 0) });
      }
      const max = await waitForRecords(maxima, 300);
      // One order per key: each key's max is its own amount.
      expect(max.every((r) => JSON.parse(text(r.value)!) === Number(text(r.key)!.slice(6)))).to.equal(true);
    } finally {
      await app.close();
    }
  });

  it('expires entries of a store with a TTL by stream time, and sweeps them out of the store and its changelog', async () => {
    const input = await createUniqueTopic('ttl-in', 1);
    const output = await createUniqueTopic('ttl-out', 1);
    const applicationId = uniqueName('dedupe');
    const stateDir = tempStateDir();
    const hour = 3_600_000;
    // Drops a record whose id was seen within the last hour (of record time).
    const dedupe: ProcessorSupplier = ({ stores, next, context }) => {
      const seen = stores.get<string, number>('seen-ids');
      return (key, value) => {
        const id = String(value);
        if (seen.get(id) !== undefined) return;
        seen.put(id, context.offset, { timestamp: context.timestamp });
        next(key, value);
      };
    };
    const app = await startApplication(
      defineApplication({
        applicationId,
        keySerde: Serdes.string(),
        valueSerde: Serdes.string(),
        commitIntervalMs: 100,
        topology: (builder) => {
          builder.addStateStore({ name: 'seen-ids', value: Serdes.json<number>(), ttlMs: hour });
          builder.stream<string, string>(input).process(dedupe, { name: 'dedupe', stores: ['seen-ids'] }).to(output);
        },
      }),
      { applicationId, stateDir },
    );
    const t0 = Date.UTC(2026, 10, 22, 8);
    try {
      const ids = Array.from({ length: 50 }, (_, i) => `id-${i}`);
      // Each id twice within the hour: one passes. Then, two hours later, again: they pass again.
      await produceRecords(input, [...ids, ...ids].map((id, i) => ({ key: 'k', value: id, timestamp: t0 + i * 1000 })));
      await produceRecords(input, [{ key: 'k', value: 'late', timestamp: t0 + 2 * hour }]);
      await produceRecords(input, ids.map((id) => ({ key: 'k', value: id, timestamp: t0 + 2 * hour + 1 })));
      const out = await waitForRecords(output, 101);
      expect(out.map((r) => text(r.value))).to.deep.equal([...ids, 'late', ...ids]);
      // A record past every first write lets the sweep delete them (at the commits that follow).
      await produceRecords(input, [{ key: 'k', value: 'later', timestamp: t0 + 4 * hour }]);
      await waitForRecords(output, 102);
      const deadline = Date.now() + 20_000;
      let logged = await readChangelog(`${applicationId}-seen-ids-changelog`);
      while (logged.size > 1 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        logged = await readChangelog(`${applicationId}-seen-ids-changelog`);
      }
      expect([...logged.keys()]).to.deep.equal(['later']);
    } finally {
      await app.close();
    }
    expect([...(await readStoreFromDisk(stateDir, applicationId, 'seen-ids')).keys()]).to.deep.equal(['later']);
  });
});
