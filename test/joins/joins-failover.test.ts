// Joins under exactly-once across kill -9, on a real broker: two instances share the work, one
// is killed mid-stream, and the output (read committed) is what the input determines, each
// record once: a stream-stream left join's pairs and unmatched orders, a stream-table join's
// orders each with the customer's row of its time, a table-table outer join's and a
// foreign-key join's final row per key, a re-keyed count's final count per group.
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
      await endRound(producer, a, round);
    }
    await producer.disconnect();
    const expected = new Map([...lines].map(([key, line]) => [key, `${line.item}+product-${line.product}-v${finalProduct.get(line.product) ?? 0}`]));
    await expectFinalRows(output, expected);
  });

  /** Flushes a round's records and gives the instances time for them; instance `a` is killed after round 5. */
  async function endRound(producer: KafkaProducer, a: Instance, round: number): Promise<void> {
    await producer.flush();
    await sleep(400);
    if (round === 5) {
      a.child.kill('SIGKILL');
      await a.exited;
    }
  }

  /** Waits until the committed output's last value of every key is the expected one, then checks it is. */
  async function expectFinalRows(output: string, expected: Map<string, string>): Promise<void> {
    const latest = (values: Array<[string, string]>) => new Map(values);
    const values = await committedOutput(output, (v) => [...expected].every(([key, want]) => latest(v).get(key) === want));
    expect(Object.fromEntries(latest(values))).to.deep.equal(Object.fromEntries(expected));
  }

  /** Writes a row (a null value: a tombstone) and returns nothing; the caller flushes. */
  function row(producer: KafkaProducer, topic: string, key: string, value: string | null, timestamp = T0): void {
    producer.send({ topic, key: Buffer.from(key), value: value === null ? null : Buffer.from(JSON.stringify(value)), timestamp });
  }

  it('stream-table join: every order once, joined with its customer as of the order', async () => {
    // Customers change every round, then that round's orders follow (later timestamps); a task
    // whose customers are all read waits a second for more before it joins an order, so the
    // customers of a round, written first, are read before its orders, as for live input.
    const { left, right, output, a, producer } = await twoInstances('stream-table', [3, 3], { maxTaskIdleMs: 1_000 });
    const expected: string[] = [];
    for (let round = 0; round < 12; round++) {
      for (let c = 0; c < 20; c++) row(producer, right, `c${c}`, `v${round}`, T0 + round * 10_000);
      await producer.flush();
      await sleep(300);
      for (let c = 0; c < 20; c++) {
        row(producer, left, `c${c}`, `o${round}-${c}`, T0 + round * 10_000 + 5_000);
        expected.push(`c${c} o${round}-${c}@v${round}`);
      }
      await endRound(producer, a, round);
    }
    await producer.disconnect();
    const values = await committedOutput(output, (v) => v.length >= expected.length);
    expect(values.map(([key, value]) => `${key} ${value}`).sort()).to.deep.equal(expected.sort());
  });

  it('table-table outer join: the final joined row of every key, deletions included', async () => {
    const { left, right, output, a, producer } = await twoInstances('table-table', [3, 3]);
    const rows = { left: new Map<string, string | null>(), right: new Map<string, string | null>() };
    for (let round = 0; round < 12; round++) {
      for (let k = 0; k < 30; k++) {
        const key = `k${k}`;
        const change = (k + round) % 3;
        if (change === 0) rows.left.set(key, `L${round}`);
        else if (change === 1) rows.right.set(key, `R${round}`);
        // Deletes only rows that exist: a tombstone for a missing row changes nothing.
        else if ((k + round) % 7 === 0 && rows.left.get(key)) rows.left.set(key, null);
        else continue;
        if (change === 1) row(producer, right, key, rows.right.get(key)!);
        else row(producer, left, key, rows.left.get(key)!);
      }
      await endRound(producer, a, round);
    }
    await producer.disconnect();
    const keys = new Set([...rows.left.keys(), ...rows.right.keys()]);
    const expected = new Map(
      [...keys].map((key) => {
        const [l, r] = [rows.left.get(key) ?? null, rows.right.get(key) ?? null];
        return [key, l === null && r === null ? 'null' : `${l ?? '-'}+${r ?? '-'}`];
      }),
    );
    await expectFinalRows(output, expected);
  });

  it('re-keyed table count: each group\'s final count, rows moving between groups', async () => {
    const { left, output, a, producer } = await twoInstances('table-groupby', [3, 3]);
    const countryOf = new Map<string, string>();
    for (let round = 0; round < 12; round++) {
      for (let u = 0; u < 60; u++) {
        if (round > 0 && (u + round) % 4 !== 0) continue;
        const country = `c${round === 0 ? u % 5 : (u * round + round) % 5}`;
        countryOf.set(`u${u}`, country);
        row(producer, left, `u${u}`, country);
      }
      await endRound(producer, a, round);
    }
    await producer.disconnect();
    const expected = new Map([0, 1, 2, 3, 4].map((c) => [`c${c}`, String([...countryOf.values()].filter((country) => country === `c${c}`).length)]));
    await expectFinalRows(output, expected);
  });
});
