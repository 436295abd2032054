// Joins under exactly-once across kill -9, on a real broker: two instances share the work, one
// is killed mid-stream, and the output (read committed) is what the input determines, each
// record once: a stream-stream left join's pairs and unmatched orders, a foreign-key join's final
// row per key.
import { expect } from 'chai';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { RECENT_HOUR, bootstrapServers, createUniqueTopic, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const T0 = RECENT_HOUR;

describe('joins across kill -9 under exactly-once', function () {
  this.timeout(300_000);
  const instances = childInstances();

  async function twoInstances(kind: string, partitions: [number, number], settings: Record<string, unknown> = {}) {
    const [left, right, output] = await Promise.all([createUniqueTopic(`${kind}-left`, partitions[0]), createUniqueTopic(`${kind}-right`, partitions[1]), createUniqueTopic(`${kind}-out`, 3)]);
    const applicationId = uniqueName(kind);
    const config = failoverConfig(settings);
    const start = (name: string) => {
      const instance = new Instance(name, ['test/fixtures/topologies/joins.ts', '--application-id', applicationId, '--config', config, '--state-dir', tempStateDir(), '--guarantee', 'exactly_once'], {
        JOIN_KIND: kind,
        JOIN_LEFT: left,
        JOIN_RIGHT: right,
        JOIN_OUTPUT: output,
      });
      instances.push(instance);
      return instance;
    };
    const [a, b] = [start('a'), start('b')];
    const hasWork = (l: Record<string, unknown>) => l.msg === 'partitions assigned' && (l.partitions as string[]).length > 0;
    await Promise.all([a.waitFor(hasWork), b.waitFor(hasWork)]);
    const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
    await producer.loadPartitionCounts([left, right]);
    return { left, right, output, a, producer };
  }

  /** Reads the committed output (key, value as text) until `done` says so or two minutes pass. */
  async function committedOutput(output: string, done: (values: Array<[string, string]>) => boolean): Promise<Array<[string, string]>> {
    const deadline = Date.now() + 120_000;
    let values: Array<[string, string]> = [];
    while (Date.now() < deadline) {
      values = (await readAll(output, 'read_committed')).map((r) => [r.key!.toString(), r.value?.toString() ?? 'null']);
      if (done(values)) break;
      await sleep(1_000);
    }
    return values;
  }

  it('stream-stream left join: every pair and every unmatched order exactly once', async () => {
    // Records are written to both topics while the instances run: a task that has orders and has
    // read every payment the broker held so far waits a second for more before it goes on
    // (Kafka Streams' max.task.idle.ms), as live input of a join needs for results in time order.
    const { left, right, output, a, producer } = await twoInstances('stream-stream', [3, 3], { maxTaskIdleMs: 1_000 });
    const expected: string[] = [];
    // 100 keys; order n at T0 + n * 250 ms, its payment 1 s later except for every fifth order; a
    // key's orders are 25 s apart, so an order meets only its own payment within 10 s.
    for (let n = 0; n < 1_200; n++) {
      const key = `k${n % 100}`;
      producer.send({ topic: left, key: Buffer.from(key), value: Buffer.from(JSON.stringify(`o${n}`)), timestamp: T0 + n * 250 });
      if (n % 5 !== 0) producer.send({ topic: right, key: Buffer.from(key), value: Buffer.from(JSON.stringify(`p${n}`)), timestamp: T0 + n * 250 + 1_000 });
      expected.push(`${key} o${n}:${n % 5 === 0 ? '-' : `p${n}`}`);
      if (n % 100 === 99) {
        await producer.flush();
        await sleep(200);
      }
      if (n === 600) {
        a.child.kill('SIGKILL');
        await a.exited;
      }
    }
    // Moves stream time past every window, in every partition: the last unmatched orders go out.
    for (let k = 0; k < 100; k++) producer.send({ topic: right, key: Buffer.from(`k${k}`), value: Buffer.from(JSON.stringify('end')), timestamp: T0 + 3_600_000 });
    await producer.flush();
    await producer.disconnect();
    const values = await committedOutput(output, (v) => v.length >= expected.length);
    expect(values.map(([key, value]) => `${key} ${value}`).sort()).to.deep.equal(expected.sort());
  });

  it('foreign-key join: the final joined row of every key, with topics of different partition counts', async () => {
    const { left, right, output, a, producer } = await twoInstances('foreign-key', [3, 2]);
    const product = (p: number, version: number) => producer.send({ topic: right, key: Buffer.from(`p${p}`), value: Buffer.from(JSON.stringify(`product-${p}-v${version}`)), timestamp: T0 });
    for (let p = 0; p < 10; p++) product(p, 0);
    const finalProduct = new Map<number, number>();
    const lines = new Map<string, { item: string; product: number }>();
    for (let round = 0; round < 12; round++) {
      for (let l = 0; l < 50; l++) {
        const line = { item: `item-${l}-${round}`, product: (l + round) % 10 };
        lines.set(`l${l}`, line);
        producer.send({ topic: left, key: Buffer.from(`l${l}`), value: Buffer.from(JSON.stringify({ item: line.item, product: `p${line.product}` })), timestamp: T0 });
      }
      const p = round % 10;
      product(p, round + 1);
      finalProduct.set(p, round + 1);
      await producer.flush();
      await sleep(400);
      if (round === 5) {
        a.child.kill('SIGKILL');
        await a.exited;
      }
    }
    await producer.disconnect();
    const expected = new Map([...lines].map(([key, line]) => [key, `${line.item}+product-${line.product}-v${finalProduct.get(line.product) ?? 0}`]));
    const latest = (values: Array<[string, string]>) => new Map(values);
    const values = await committedOutput(output, (v) => [...expected].every(([key, want]) => latest(v).get(key) === want));
    expect(Object.fromEntries(latest(values))).to.deep.equal(Object.fromEntries(expected));
  });
});
