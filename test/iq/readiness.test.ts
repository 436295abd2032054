import { expect } from 'chai';
import { freePort } from '../../engine/local/ports.ts';
import { partitionForKey } from '../../engine/kafka/murmur2.ts';
import { childInstances, Instance } from '../helpers/instances.ts';
import { createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const PARTITIONS = 6;
const KEYS = 30_000;

/** One key of each partition. */
function keyPerPartition(): string[] {
  const keys: Array<string | undefined> = Array.from({ length: PARTITIONS });
  for (let i = 0; keys.some((k) => k === undefined); i++) keys[partitionForKey(Buffer.from(`k${i}`), PARTITIONS)] ??= `k${i}`;
  return keys as string[];
}

const readyStatus = async (endpoint: string) => (await fetch(`${endpoint}/readyz`)).status;

describe('readiness across a rebalance (two child processes of the counter fixture)', function () {
  this.timeout(300_000);
  const instances = childInstances();

  it('answers /readyz 503 whenever a query sent to the instance would answer 503, also while a new instance restores what moved to it', async () => {
    const prefix = uniqueName('iq-ready');
    const input = await createTopic(`${prefix}-in`, PARTITIONS);
    // Many keys: the second instance takes a while to restore the partitions that move to it.
    await produceRecords(input, Array.from({ length: KEYS }, (_, i) => ({ key: `k${i}`, value: '1' })));
    const ports = [await freePort(), await freePort()];
    const endpoints = ports.map((p) => `http://127.0.0.1:${p}`);
    const start = (i: number) => {
      const args = ['test/fixtures/topologies/counter.ts', '--application-id', `${prefix}-app`, '--state-dir', tempStateDir(), '--http-port', String(ports[i])];
      const instance = new Instance(`ready-${i}`, args, { COUNT_INPUT: input, COUNT_OUTPUT: `${prefix}-out` });
      instances.push(instance);
      return instance;
    };
    const keys = keyPerPartition();
    const ask = (endpoint: string) => Promise.all(keys.map(async (k) => (await fetch(`${endpoint}/v1/stores/counts/keys/${k}`)).status));

    await start(0).waitUntilRunning();
    const deadline = Date.now() + 120_000;
    while ((await readyStatus(endpoints[0]!)) !== 200 || (await ask(endpoints[0]!)).some((s) => s !== 200)) {
      expect(Date.now(), 'the first instance answers every key').to.be.below(deadline);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const last = `k${KEYS - 1}`;
    while ((await fetch(`${endpoints[0]}/v1/stores/counts/keys/${last}`)).status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));

    // A second instance joins: partitions move to it and restore there. Each sample asks the
    // readiness of both, every partition's key of both, then the readiness again: when it said
    // ready before and after, no key may have answered 503 in between.
    start(1);
    const contradictions: string[] = [];
    const seen = { notReady: 0, unavailable: 0, samples: 0 };
    const until = Date.now() + 120_000;
    for (;;) {
      const before = await Promise.all(endpoints.map((e) => readyStatus(e).catch(() => 0)));
      const answers = await Promise.all(endpoints.map((e) => ask(e).catch(() => [] as number[])));
      const after = await Promise.all(endpoints.map((e) => readyStatus(e).catch(() => 0)));
      seen.samples++;
      for (let i = 0; i < endpoints.length; i++) {
        if (answers[i]!.includes(503)) seen.unavailable++;
        if (before[i] === 503 || after[i] === 503) seen.notReady++;
        if (before[i] === 200 && after[i] === 200 && answers[i]!.includes(503)) contradictions.push(`instance ${i} ready, but keys answered ${answers[i]!.join(',')}`);
      }
      const settled = before.every((s) => s === 200) && after.every((s) => s === 200) && answers.every((a) => a.length === PARTITIONS && a.every((s) => s === 200));
      if (settled && instances[1]!.log.some((l) => l.msg === 'state changed' && l.to === 'RUNNING')) break;
      expect(Date.now(), `both instances ready within two minutes (${JSON.stringify(seen)})`).to.be.below(until);
    }
    expect(contradictions, contradictions.slice(0, 5).join('\n')).to.deep.equal([]);
    // The rebalance was seen: keys answered 503 at some point, and readiness said so.
    expect(seen.unavailable, JSON.stringify(seen)).to.be.greaterThan(0);
    expect(seen.notReady, JSON.stringify(seen)).to.be.greaterThan(0);
    const ready = (await (await fetch(`${endpoints[0]}/readyz`)).json()) as Record<string, unknown>;
    expect(ready).to.include({ status: 'ready', state: 'running' });
  });
});
