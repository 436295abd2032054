/**
 * `failover`: three instances count `keys` keys over `partitions` partitions (one record per
 * key, so every count is 1), each serving queries; once all is counted (and the standbys, where
 * there are any, have caught up), one instance is killed with -9, and a sample of its keys is
 * asked of a survivor over HTTP until every one answers right. Reported per setting: the
 * seconds from the kill until then, how long the group took to notice (the session timeout),
 * and the changelog records the survivors restored. Settings run one after another on fresh
 * applications: `numStandbyReplicas` 0 and 1.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import type { FailoverWorkload } from '../catalogue.ts';
import { committedToEnd, machine, type BenchContext } from '../context.ts';
import { freePort, keyOf, RunningInstance, sampleKeys, steady, type Metadata } from './failover-cluster.ts';
import { runRestarts } from './restarts.ts';
import { peerJson } from '../../engine/iq/queries.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


export async function runFailover(ctx: BenchContext, workload: FailoverWorkload) {
  const { say } = ctx;
  const params = ctx.paramsOf(workload);
  const { keys, partitions } = params;
  const sample = workload.sample(ctx.flags.quick);
  const run = randomUUID().slice(0, 8);
  const input = `bench-failover-${run}-in`;
  const admin = KafkaAdmin.connect({ bootstrapServers: ctx.bootstrapServers });
  const agent = new Agent({ connections: 16 });
  const results: Array<{ system: string; records: number; seconds: number; recordsPerSec: number | null; restoredRecords: number; standbys?: number; noticedSeconds?: number; sampledKeys?: number }> = [];
  try {
    await admin.createTopics([{ name: input, partitions }]);
    say(`Loading ${keys.toLocaleString()} keys, one record each, into ${input} (${partitions} partitions)...`);
    await ctx.load(input, keys, (i) => Buffer.from(keyOf(i)), () => Buffer.alloc(0));
    const ends = [{ topic: input, ends: (await admin.topicOffsets(input)).map(({ partition, high }) => ({ partition, high })) }];
    // BENCH_FAILOVER_PHASES=restarts runs the restart phases only.
    const phases = (process.env.BENCH_FAILOVER_PHASES ?? 'kill,restarts').split(',');
    for (const standbys of phases.includes('kill') ? workload.standbys : []) {
      const system = standbys === 0 ? 'sluice' : `sluice-${standbys}-standby`;
      const application = `bench-failover-${run}-${standbys}`;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-failover-'));
      const config = path.join(dir, 'config.json');
      fs.writeFileSync(config, JSON.stringify({ numStandbyReplicas: standbys, kafka: { 'session.timeout.ms': workload.sessionTimeoutMs, 'heartbeat.interval.ms': Math.round(workload.sessionTimeoutMs / 5) } }));
      const instances: RunningInstance[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const port = await freePort();
          const args = ['bench/systems/failover-count.ts', '--application-id', application, '--state-dir', path.join(dir, `state-${i}`), '--http-port', String(port), '--config', config];
          instances.push(new RunningInstance(`http://127.0.0.1:${port}`, args, { BENCH_INPUT: input, BENCH_OUTPUT: `${application}-out` }));
        }
        say(`  ${system}: counting ${keys.toLocaleString()} keys on 3 instances...`);
        await admin.createTopics([{ name: `${application}-out`, partitions }]);
        const startedAt = Date.now();
        while (!(await committedToEnd(admin, application, ends))) {
          if (Date.now() - startedAt > 600_000) throw new Error(`${system} did not count its input within 10 minutes`);
          await sleep(500);
        }
        const ask = (endpoint: string, route: string) => agent.request({ origin: endpoint, path: route, method: 'GET' }).then(async (r) => ({ status: r.statusCode, body: await r.body.text() }));
        // Every task placed and, with standbys, every standby caught up.
        let victimPartitions: number[] = [];
        for (const deadline = Date.now() + 120_000; ; ) {
          const metadata = JSON.parse((await ask(instances[1]!.endpoint, '/v1/metadata')).body) as Metadata;
          victimPartitions = metadata.instances.find((i) => i.endpoint === instances[0]!.endpoint)?.stores.counts?.running ?? [];
          if (steady(metadata, 3, partitions, standbys) && victimPartitions.length > 0) break;
          if (Date.now() > deadline) throw new Error(`${system}: the tasks and standbys were not all placed within 2 minutes: ${JSON.stringify(metadata.instances.map((i) => i.stores.counts))}`);
          await sleep(500);
        }
        const victimKeys = sampleKeys(keys, partitions, new Set(victimPartitions), sample);
        say(`  ${system}: killing one instance (partitions ${victimPartitions.join(', ')}); asking ${victimKeys.length} of its keys...`);
        const killedAt = Date.now();
        instances[0]!.kill('SIGKILL');
        const waiting = new Set(victimKeys);
        /** Each kind of wrong answer, and when (ms after the kill) it was last seen. */
        const lastSeen = new Map<string, number>();
        const survivor = instances[1]!.endpoint;
        while (waiting.size > 0) {
          if (Date.now() - killedAt > 300_000) throw new Error(`${system}: ${waiting.size} keys still did not answer 5 minutes after the kill`);
          const batch = [...waiting].slice(0, 200);
          const answers = await Promise.all(batch.map((key) => ask(survivor, `/v1/stores/counts/keys/${key}`).catch(() => ({ status: 0, body: '' }))));
          answers.forEach((answer, i) => {
            if (answer.status === 200 && (JSON.parse(answer.body) as { value: unknown }).value === 1) waiting.delete(batch[i]!);
            else {
              const why = `${answer.status} ${peerJson<{ reason?: string }>(answer.body)?.reason ?? ''}`.trim();
              lastSeen.set(why, Date.now() - killedAt);
            }
          });
          if (waiting.size > 0) await sleep(20);
        }
        const seconds = (Date.now() - killedAt) / 1000;
        const noticed = Math.min(...instances.slice(1).map((i) => i.assignedAfter(killedAt) ?? Number.POSITIVE_INFINITY));
        const restored = instances.slice(1).reduce((n, i) => n + i.restoredSince(killedAt), 0);
        const result = { system, records: keys, seconds, recordsPerSec: Math.round(victimKeys.length / seconds), standbys, noticedSeconds: (noticed - killedAt) / 1000, restoredRecords: restored, sampledKeys: victimKeys.length, wrongAnswersLastSeenMs: Object.fromEntries(lastSeen) };
        say(`  ${system}: every key answers again ${seconds.toFixed(2)} s after the kill (the group noticed after ${result.noticedSeconds.toFixed(2)} s; ${restored.toLocaleString()} changelog records restored; answers before: ${JSON.stringify(result.wrongAnswersLastSeenMs)})`);
        results.push(result);
      } finally {
        // BENCH_LOGS=<dir> keeps each instance's log lines.
        if (process.env.BENCH_LOGS) instances.forEach((instance, i) => fs.writeFileSync(path.join(process.env.BENCH_LOGS!, `${application}-${i}.log`), instance.log.map((l) => JSON.stringify(l)).join('\n') + '\n'));
        for (const instance of instances) instance.kill('SIGTERM');
        await Promise.all(instances.map((i) => Promise.race([i.exited, sleep(30_000)])));
        for (const instance of instances) instance.kill('SIGKILL');
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    // The rolling restart and the scale-up, without the features and with them.
    const setup = { bootstrapServers: ctx.bootstrapServers, admin, input, ends, keys, partitions, sessionTimeoutMs: workload.restartSessionTimeoutMs, say };
    // BENCH_FAILOVER_RESTARTS=named runs only the restarts of named instances with a standby.
    const restarts = [{ standbys: 0, named: false }, { standbys: 1, named: false }, { standbys: 1, named: true }].filter((f) => process.env.BENCH_FAILOVER_RESTARTS !== 'named' || f.named);
    for (const features of phases.includes('restarts') ? restarts : []) results.push(...(await runRestarts(setup, features, run)));
  } finally {
    await agent.close();
    await admin.deleteTopics([input]).catch(() => undefined);
    admin.disconnect();
  }
  return {
    workload: workload.name,
    params: { records: keys, keys, partitions, instances: 3, sessionTimeoutMs: workload.sessionTimeoutMs, restartSessionTimeoutMs: workload.restartSessionTimeoutMs, sampledKeys: sample, timed: 'from the kill until every sampled key of the killed instance answers its count from a survivor', machine: machine() },
    results,
  };
}

/** The results as a Markdown table. */
export function failoverTable(report: Awaited<ReturnType<typeof runFailover>>): string {
  const rows = report.results.map(
    (r) => `| ${r.system} | ${r.seconds.toFixed(2)} | ${r.noticedSeconds === undefined ? '—' : r.noticedSeconds.toFixed(2)} | ${r.restoredRecords.toLocaleString('en-US')} |`,
  );
  return [
    `\nfailover: ${report.params.keys.toLocaleString('en-US')} keys, ${report.params.partitions} partitions, 3 instances; kill -9 with a ${report.params.sessionTimeoutMs} ms session timeout, restarts with ${report.params.restartSessionTimeoutMs} ms\n`,
    '| system and phase | seconds a key could not be read (kill: until every key answers) | group noticed the kill after (s) | records restored |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n');
}
