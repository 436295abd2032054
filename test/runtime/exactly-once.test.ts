import { expect } from 'chai';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaConsumer } from '../../engine/kafka/consumer.ts';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import type { ConsumedRecord } from '../../engine/kafka/records.ts';
import type { Application } from '../../engine/runtime/application.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text } from '../helpers/app.ts';
import { bootstrapServers, createUniqueTopic, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts per key with the cache off, so every input gives one output: 1, 2, 3, ... per key. */
function counter(input: string, output: string) {
  return defineApplication({
    applicationId: 'eos-count',
    guarantee: 'exactly_once',
    keySerde: Serdes.string(),
    valueSerde: Serdes.string(),
    topology: (builder) =>
      builder
        .stream<string, string>(input)
        .groupByKey()
        .count({ name: 'counts', caching: false })
        .toStream()
        .to(output, { value: Serdes.json() }),
  });
}

/**
 * Sends `n` records over `keys` keys, numbered from `from` (the number is the value, and a `seq`
 * header that travels to the outputs); counts in `sent` how many each key got.
 */
async function produce(topic: string, from: number, n: number, keys: number, sent: Map<string, number>): Promise<void> {
  const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
  await producer.loadPartitionCounts([topic]);
  for (let i = from; i < from + n; i++) {
    const key = `k${i % keys}`;
    sent.set(key, (sent.get(key) ?? 0) + 1);
    producer.send({ topic, key: Buffer.from(key), value: Buffer.from(String(i)), headers: [{ seq: String(i) }] });
  }
  await producer.disconnect();
}

function header(record: ConsumedRecord, name: string): string | undefined {
  const found = record.headers?.findLast((h) => h[name] !== undefined)?.[name];
  return found === undefined ? undefined : String(found);
}

/**
 * Why some keys' counts are wrong: the inputs (by `seq`) counted more than once, and whether the
 * input topic itself holds a record twice (then the producer, not the engine, duplicated it).
 */
async function explainWrongCounts(input: string, outputs: ConsumedRecord[], keys: Set<string>): Promise<string> {
  const countedBy = new Map<string, string[]>();
  for (const r of outputs) {
    if (!keys.has(text(r.key)!)) continue;
    const seq = header(r, 'seq') ?? '?';
    if (!countedBy.has(seq)) countedBy.set(seq, []);
    countedBy.get(seq)!.push(`count ${text(r.value)} at ${r.partition}@${r.offset}`);
  }
  const twice = [...countedBy].filter(([, counts]) => counts.length > 1).slice(0, 5);
  const copies = new Map<string, number>();
  for (const r of await readAll(input, 'read_committed')) copies.set(text(r.value)!, (copies.get(text(r.value)!) ?? 0) + 1);
  const duplicatedInputs = [...copies].filter(([, n]) => n > 1).map(([seq]) => seq);
  return (
    `inputs counted twice: ${twice.map(([seq, counts]) => `${seq} (${counts.join('; ')})`).join(', ') || 'none'}; ` +
    `inputs the topic holds twice: ${duplicatedInputs.slice(0, 5).join(', ') || 'none'}`
  );
}

/** Each key's counts as read committed: must be exactly 1..n, with n what the key was sent. */
async function expectExactCounts(input: string, output: string, sent: Map<string, number>, timeoutMs = 60_000): Promise<void> {
  const total = [...sent.values()].reduce((a, b) => a + b, 0);
  const deadline = Date.now() + timeoutMs;
  let records = await readAll(output, 'read_committed');
  while (records.length < total && Date.now() < deadline) {
    await sleep(300);
    records = await readAll(output, 'read_committed');
  }
  const seen = new Map<string, number[]>();
  for (const r of records) {
    const key = text(r.key)!;
    if (!seen.has(key)) seen.set(key, []);
    seen.get(key)!.push(Number(text(r.value)));
  }
  const wrong = [...sent].filter(([key, n]) => {
    const counts = seen.get(key) ?? [];
    return counts.length !== n || counts.some((c, i) => c !== i + 1);
  });
  const why = wrong.length > 0 ? await explainWrongCounts(input, records, new Set(wrong.map(([key]) => key))) : '';
  expect(wrong.slice(0, 3).map(([key, n]) => `${key}: sent ${n}, counts ${seen.get(key)?.join(',')}`), `${wrong.length} keys wrong; ${why}`).to.deep.equal([]);
  expect(records.length).to.equal(total);
}

/** Every partition of `topic` has its last stable offset at its end: no transaction is open. */
async function expectNoOpenTransaction(topic: string, partitions: number): Promise<void> {
  const committed = await KafkaConsumer.connect({ bootstrapServers: bootstrapServers(), isolationLevel: 'read_committed' });
  const uncommitted = await KafkaConsumer.connect({ bootstrapServers: bootstrapServers(), isolationLevel: 'read_uncommitted' });
  try {
    for (let p = 0; p < partitions; p++) {
      expect((await committed.watermarks(topic, p)).high, `${topic}[${p}]`).to.equal((await uncommitted.watermarks(topic, p)).high);
    }
  } finally {
    await committed.disconnect();
    await uncommitted.disconnect();
  }
}

describe('exactly-once processing (real broker)', function () {
  this.timeout(180_000);
  const apps: Application[] = [];
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps.length = 0;
  });

  it('commits outputs, changelog records and offsets in one transaction, read committed, across a graceful restart', async () => {
    const input = await createUniqueTopic('eos-in', 3);
    const output = await createUniqueTopic('eos-out', 3);
    const applicationId = uniqueName('eos-count');
    const stateDir = tempStateDir();
    const sent = new Map<string, number>();
    const first = await startApplication(counter(input, output), { applicationId, stateDir });
    apps.push(first);
    await produce(input, 0, 3_000, 40, sent);
    await expectExactCounts(input, output, sent);
    await first.close();
    // Nothing in flight after a clean close.
    await expectNoOpenTransaction(output, 3);
    await expectNoOpenTransaction(`${applicationId}-counts-changelog`, 3);

    const second = await startApplication(counter(input, output), { applicationId, stateDir });
    apps.push(second);
    await produce(input, 3_000, 2_000, 40, sent);
    await expectExactCounts(input, output, sent);
    expect(second.progress.rewinds).to.equal(0);
  });

  it('commits a repartition topic up to its end, past the transaction markers its writer left', async () => {
    const input = await createUniqueTopic('eos-marker-in', 2);
    const output = await createUniqueTopic('eos-marker-out', 2);
    const applicationId = uniqueName('eos-marker');
    const definition = defineApplication({
      applicationId,
      keySerde: Serdes.string(),
      valueSerde: Serdes.string(),
      topology: (b) => b.stream<string, string>(input).groupBy((_, value) => value).count({ name: 'by-value' }).toStream().to(output, { value: Serdes.json() }),
    });
    const app = await startApplication(definition, { applicationId, stateDir: tempStateDir(), guarantee: 'exactly_once', commitIntervalMs: 100 });
    apps.push(app);
    const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
    await producer.loadPartitionCounts([input]);
    for (let i = 0; i < 40; i++) producer.send({ topic: input, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i % 4}`) });
    await producer.flush();
    await producer.disconnect();
    const repartition = `${applicationId}-by-value-repartition`;
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    try {
      // Every partition the writer wrote to ends with a commit marker: its end is one past its last record.
      let behind: string[] = ['not read yet'];
      for (let i = 0; i < 100 && behind.length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const [ends, committed] = await Promise.all([admin.topicOffsets(repartition), admin.groupOffsets(applicationId)]);
        behind = ends
          .filter((end) => end.high > end.low)
          .filter((end) => committed.find((c) => c.topic === repartition && c.partition === end.partition)?.offset !== end.high)
          .map((end) => `${end.partition}: ${committed.find((c) => c.topic === repartition && c.partition === end.partition)?.offset ?? 'nothing'} of ${end.high}`);
      }
      expect(behind, 'partitions committed short of their end').to.deep.equal([]);
    } finally {
      admin.disconnect();
    }
  });

  it('replaces a fenced producer and redoes the work since the last commit exactly once', async () => {
    const input = await createUniqueTopic('eos-fence-in', 3);
    const output = await createUniqueTopic('eos-fence-out', 3);
    const sent = new Map<string, number>();
    const app = await startApplication(counter(input, output), { stateDir: tempStateDir() });
    apps.push(app);
    await produce(input, 0, 1_000, 20, sent);
    await expectExactCounts(input, output, sent);

    // A producer with the application's transactional id fences the application's producer,
    // as a zombie's successor would; the application must replace it, not stop.
    const usurper = await KafkaProducer.connect({ bootstrapServers: bootstrapServers(), transactionalId: app.instanceId });
    const more = produce(input, 1_000, 3_000, 20, sent);
    await more;
    await expectExactCounts(input, output, sent);
    expect(app.progress.rewinds).to.be.at.least(1);
    expect(app.state).to.equal('RUNNING');
    await usurper.disconnect().catch(() => undefined);
  });

  it('replaces a producer found fenced when a commit passes on finished async calls, and redoes the work exactly once', async () => {
    const input = await createUniqueTopic('eos-fence-async-in', 1);
    const seen = await createUniqueTopic('eos-fence-async-seen', 1);
    const output = await createUniqueTopic('eos-fence-async-out', 1);
    // One branch sends each record at once (its first send after the fencing finds the producer
    // fenced); the other's calls are still in flight then, and the commit that waits for them
    // sends their results.
    const definition = defineApplication({
      applicationId: 'eos-fence-async',
      guarantee: 'exactly_once',
      keySerde: Serdes.string(),
      valueSerde: Serdes.string(),
      topology: (builder) => {
        const records = builder.stream<string, string>(input);
        records.to(seen);
        records.mapValuesAsync(async (value) => {
          await sleep(300);
          return value;
        }).to(output);
      },
    });
    const sent = new Map<string, number>();
    const app = await startApplication(definition, { stateDir: tempStateDir() });
    apps.push(app);
    const values = async (topic: string) => (await readAll(topic, 'read_committed')).map((r) => Number(text(r.value))).sort((a, b) => a - b);
    const waitFor = async (count: number) => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && app.state === 'RUNNING' && (await values(output)).length < count) await sleep(300);
    };
    await produce(input, 0, 100, 10, sent);
    await waitFor(100);
    const usurper = await KafkaProducer.connect({ bootstrapServers: bootstrapServers(), transactionalId: app.instanceId });
    await produce(input, 100, 50, 10, sent);
    await waitFor(150);
    expect(app.state).to.equal('RUNNING');
    const expected = Array.from({ length: 150 }, (_, i) => i);
    expect(await values(output)).to.deep.equal(expected);
    expect(await values(seen)).to.deep.equal(expected);
    expect(app.progress.rewinds).to.be.at.least(1);
    await usurper.disconnect().catch(() => undefined);
  });

  it('commits the open transaction when a rebalance revokes partitions mid-stream, leaving nothing of them in flight', async () => {
    const input = await createUniqueTopic('eos-rebal-in', 6);
    const output = await createUniqueTopic('eos-rebal-out', 6);
    const applicationId = uniqueName('eos-rebal');
    const sent = new Map<string, number>();
    const settings = { applicationId, kafka: { 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500 } };
    const first = await startApplication(counter(input, output), { ...settings, stateDir: tempStateDir() });
    apps.push(first);
    await produce(input, 0, 4_000, 60, sent);
    // A second instance joins while the first is processing: the first gives up half its
    // partitions in the middle of its transactions.
    const feeding = (async () => {
      for (let i = 1; i <= 6; i++) {
        await produce(input, i * 4_000, 4_000, 60, sent);
        await sleep(300);
      }
    })();
    await sleep(500);
    const second = await startApplication(counter(input, output), { ...settings, stateDir: tempStateDir() });
    apps.push(second);
    await feeding;
    await expectExactCounts(input, output, sent);
    expect(first.taskIds().length + second.taskIds().length).to.equal(6);
    expect(second.taskIds().length).to.be.greaterThan(0);
    await Promise.all([first.close(), second.close()]);
    await expectNoOpenTransaction(output, 6);
    await expectNoOpenTransaction(`${applicationId}-counts-changelog`, 6);
  });
});
