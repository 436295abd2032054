/**
 * The failover workload's restart phases: a rolling restart of three instances (SIGTERM, start
 * again on the same state directory, the next once it runs and every standby has caught up) and
 * then a scale-up to four, while a prober asks a sample of keys of every partition over and over;
 * reported: the longest time any sampled key could not be read, and the changelog records
 * restored. Run without the features, with one standby, and with one standby and every instance
 * named (static membership, warm-up).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import type { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { committedToEnd, type TopicEnds } from '../context.ts';
import { freePort, type Metadata, RunningInstance, sampleKeys, steady } from './failover-cluster.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks sample keys again and again; keeps, per key, the longest time between two right answers. */
class Availability {
  private readonly lastRight = new Map<string, number>();
  private worstMs = 0;
  private stopped = false;
  private next = 0;
  private readonly running: Promise<void>;

  constructor(
    private readonly keys: string[],
    private readonly endpoints: () => string[],
    private readonly agent: Agent,
  ) {
    const now = Date.now();
    for (const key of keys) this.lastRight.set(key, now);
    this.running = this.probe();
  }

  /** Starts a phase: the longest gap so far is forgotten. */
  reset(): void {
    const now = Date.now();
    for (const key of this.keys) this.lastRight.set(key, now);
    this.worstMs = 0;
  }

  /** The longest gap of the phase, counting keys still not answering. */
  worst(): number {
    const now = Date.now();
    return Math.max(this.worstMs, ...[...this.lastRight.values()].map((t) => now - t));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async probe(): Promise<void> {
    while (!this.stopped) {
      const endpoints = this.endpoints();
      if (endpoints.length === 0) {
        await sleep(50);
        continue;
      }
      await Promise.all(
        this.keys.map(async (key, i) => {
          const origin = endpoints[(this.next + i) % endpoints.length]!;
          const right = await this.agent
            .request({ origin, path: `/v1/stores/counts/keys/${key}`, method: 'GET', headersTimeout: 2_000, bodyTimeout: 2_000 })
            .then(async (r) => r.statusCode === 200 && (JSON.parse(await r.body.text()) as { value: unknown }).value === 1)
            .catch(() => false);
          if (!right) return;
          const now = Date.now();
          this.worstMs = Math.max(this.worstMs, now - this.lastRight.get(key)!);
          this.lastRight.set(key, now);
        }),
      );
      this.next++;
      await sleep(20);
    }
  }
}

export interface RestartSetup {
  bootstrapServers: string;
  admin: KafkaAdmin;
  input: string;
  ends: TopicEnds[];
  keys: number;
  partitions: number;
  sessionTimeoutMs: number;
  say: (line: string) => void;
}

/** The rolling restart, then the scale-up, with `standbys` standby replicas and named instances or not. */
export async function runRestarts(setup: RestartSetup, features: { standbys: number; named: boolean }, run: string) {
  const { admin, input, ends, keys, partitions, say } = setup;
  const { standbys, named } = features;
  const system = `sluice${named ? '-named' : ''}${standbys > 0 ? `-${standbys}-standby` : ''}`;
  const application = `bench-failover-${run}-restarts-${named ? 'named' : 'dynamic'}-${standbys}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-restarts-'));
  const config = path.join(dir, 'config.json');
  fs.writeFileSync(config, JSON.stringify({ numStandbyReplicas: standbys, kafka: { 'session.timeout.ms': setup.sessionTimeoutMs, 'heartbeat.interval.ms': 500 } }));
  const instances: RunningInstance[] = [];
  const down = new Set<number>();
  const agent = new Agent({ connections: 64 });
  const ports: number[] = [];
  const generations: RunningInstance[][] = [];
  const start = (i: number) => {
    const args = ['bench/systems/failover-count.ts', '--application-id', application, '--state-dir', path.join(dir, `state-${i}`), '--http-port', String(ports[i]), '--config', config, ...(named ? ['--instance-name', `node-${i}`] : [])];
    instances[i] = new RunningInstance(`http://127.0.0.1:${ports[i]}`, args, { BENCH_INPUT: input, BENCH_OUTPUT: `${application}-out` });
    (generations[i] ??= []).push(instances[i]!);
    return instances[i]!;
  };
  const runningAfter = (instance: RunningInstance, since: number, timeoutMs: number) => waitFor(() => instance.log.some((l) => l.msg === 'state changed' && l.to === 'RUNNING' && (l.time as number) >= since), timeoutMs);
  const restored = (since: number) => instances.reduce((n, i) => n + i.restoredSince(since), 0);
  let availability: Availability | undefined;
  const results = [];
  try {
    for (let i = 0; i < 4; i++) ports.push(await freePort());
    await admin.createTopics([{ name: `${application}-out`, partitions }]);
    for (let i = 0; i < 3; i++) {
      start(i);
      // Named instances warm up before they join: one after another, each finds the others.
      if (named) await runningAfter(instances[i]!, 0, 300_000);
    }
    say(`  ${system}: counting ${keys.toLocaleString()} keys on 3 instances...`);
    await waitFor(() => committedToEnd(admin, application, ends), 600_000);
    // A rolling restart of a steady application: every task running, every standby caught up.
    const settled = () =>
      waitFor(async () => {
        const up = instances.find((instance, i) => instance && !down.has(i))!;
        const answer = await agent.request({ origin: up.endpoint, path: '/v1/metadata', method: 'GET' }).then((r) => r.body.json() as Promise<Metadata>).catch(() => undefined);
        return answer !== undefined && steady(answer, 3, partitions, standbys);
      }, 300_000);
    await settled();
    await sleep(5_000);
    const sample = sampleKeys(keys, partitions, new Set(Array.from({ length: partitions }, (_, p) => p)), 20 * partitions);
    availability = new Availability(sample, () => instances.flatMap((instance, i) => (down.has(i) || !instance ? [] : [instance.endpoint])), agent);
    await sleep(2_000);

    say(`  ${system}: rolling restart...`);
    availability.reset();
    const rollingFrom = Date.now();
    for (let i = 0; i < 3; i++) {
      await settled();
      down.add(i);
      instances[i]!.kill('SIGTERM');
      await instances[i]!.exited;
      const restartedAt = Date.now();
      start(i);
      await runningAfter(instances[i]!, restartedAt, 300_000);
      down.delete(i);
      await sleep(5_000);
    }
    const rolling = { system: `${system}-rolling-restart`, records: keys, seconds: availability.worst() / 1000, recordsPerSec: null, restoredRecords: restored(rollingFrom) };
    say(`  ${rolling.system}: longest a key was unavailable ${rolling.seconds.toFixed(2)} s; ${rolling.restoredRecords.toLocaleString()} records restored`);
    results.push(rolling);

    say(`  ${system}: scaling up to 4 instances...`);
    availability.reset();
    const scaleFrom = Date.now();
    down.add(3);
    start(3);
    await runningAfter(instances[3]!, scaleFrom, 600_000);
    down.delete(3);
    await sleep(5_000);
    const scaleUp = { system: `${system}-scale-up`, records: keys, seconds: availability.worst() / 1000, recordsPerSec: null, restoredRecords: restored(scaleFrom) };
    say(`  ${scaleUp.system}: longest a key was unavailable ${scaleUp.seconds.toFixed(2)} s; ${scaleUp.restoredRecords.toLocaleString()} records restored`);
    results.push(scaleUp);
  } finally {
    await availability?.stop();
    // Every process of each slot, the one a restart replaced included.
    const logs = process.env.BENCH_LOGS;
    if (logs) generations.forEach((runs, i) => runs.forEach((instance, g) => fs.writeFileSync(path.join(logs, `${application}-${i}-g${g}.log`), instance.log.map((l) => JSON.stringify(l)).join('\n') + '\n')));
    for (const instance of instances) instance?.kill('SIGTERM');
    await Promise.all(instances.map((i) => Promise.race([i?.exited, sleep(30_000)])));
    for (const instance of instances) instance?.kill('SIGKILL');
    await agent.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

async function waitFor(test: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}
