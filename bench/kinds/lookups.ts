import { randomUUID } from 'node:crypto';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import type { LookupWorkload } from '../catalogue.ts';
import { committedSum, machine, type BenchContext } from '../context.ts';
import { BestOfRounds, highestRate } from '../report/best-of-rounds.ts';
import type { Report, RunResult } from '../report/types.ts';
import type { SystemProcess } from '../system-process.ts';
import { keyIndex, keyName, statefulValue } from '../workloads/stateful.ts';
import { Feeder } from '../feed.ts';

/**
 * `iq-lookups`: a load phase writes `records` records over `keys` keys (record i has key
 * i mod keys) into a 6-partition input; Sluice counts them per key (the stateful-count
 * topology, with its query server on a free port) and the harness waits until a sample of keys
 * answers its true count. Then, while a producer keeps feeding the input at `feedPerSec` (the
 * application keeps processing and committing through the whole measurement), a load generator
 * in a child process of its own (systems/http-load.ts, autocannon) alternates between
 * (a) `sluice-iq`: `GET /v1/stores/counts/keys/user-<n>` for uniformly random existing keys and
 * (b) `node-http`: a bare node:http server in its own child answering a constant JSON body of the
 * same shape, with the same connections and duration. Best round per system by requests/s.
 * Afterwards (untimed) the feed stops and every sampled key must answer its true count.
 */
export async function runLookups(ctx: BenchContext, workload: LookupWorkload): Promise<Report> {
  const { flags, say, bootstrapServers } = ctx;
  const params = ctx.paramsOf(workload);
  const shape = workload.load(flags.quick);
  if (!flags.records) params.records = params.keys * shape.recordsPerKey;
  const systems = ctx.systemsOf(workload.systems);
  const rounds = ctx.roundsOf(workload);
  const run = randomUUID().slice(0, 8);
  const input = `bench-${workload.name}-${run}-in`;
  const output = `bench-${workload.name}-${run}-out`;
  const group = `bench-${run}-sluice-iq`;
  const store = 'counts';
  const admin = KafkaAdmin.connect({ bootstrapServers });
  const topics = [input, output, `${group}-${store}-changelog`, `${group}-instances`];
  const key = (i: number) => Buffer.from(keyName(keyIndex(i, params.keys, 'sequential')));
  const value = (i: number) => statefulValue(i, params.valueSize);
  let app: SystemProcess | undefined;
  let baseline: SystemProcess | undefined;
  let feeder: Feeder | undefined;
  try {
    await admin.createTopics([
      { name: input, partitions: params.partitions },
      { name: output, partitions: params.partitions },
    ]);
    say(`Loading ${params.records.toLocaleString()} records of ${params.valueSize} bytes, ${params.keys.toLocaleString()} keys, into ${input} (${params.partitions} partitions)...`);
    await ctx.load(input, params.records, key, value);
    app = ctx.launch('sluice', {
      BENCH_WORKLOAD: workload.name,
      BENCH_INPUT: input,
      BENCH_OUTPUT: output,
      BENCH_GROUP: group,
      BENCH_COMMIT_INTERVAL_MS: String(params.commitIntervalMs),
      BENCH_HTTP: '1',
    });
    await app.until('ready', () => app!.saw('ready') && app!.saw('endpoint'), 120_000);
    const endpoint = app.events.find((e) => e.event === 'endpoint')!.url as string;
    const sample = sampleKeys(params.keys, shape.sample);
    const loadedAt = performance.now();
    await waitForCounts(endpoint, store, sample, (k) => sequentialCount(params.records, params.keys, k), 300_000);
    say(`  sluice counted the load in ${((performance.now() - loadedAt) / 1000).toFixed(1)} s; ${sample.length} sampled keys answer their true counts at ${endpoint}`);

    baseline = ctx.launch('node-http', {});
    await baseline.until('ready', () => baseline!.saw('endpoint'), 60_000);
    const endpoints: Record<string, string> = { 'sluice-iq': endpoint, 'node-http': baseline.events.find((e) => e.event === 'endpoint')!.url as string };

    feeder = await Feeder.start(bootstrapServers, input, params.records, shape.feedPerSec, key, value);
    say(`  feeding ${input} at ${shape.feedPerSec.toLocaleString()} records/s while the lookups run`);
    const settings = (system: string, seconds: number) => ({
      url: endpoints[system]!,
      connections: shape.connections,
      seconds,
      keys: params.keys,
      pathPrefix: `/v1/stores/${store}/keys/user-`,
    });
    for (const system of systems) await generateLoad(ctx, settings(system, shape.warmupSeconds));

    const best = new BestOfRounds(highestRate);
    for (let round = 1; round <= rounds; round++) {
      for (const system of systems) {
        if (!endpoints[system]) throw new Error(`unknown system "${system}" for ${workload.name}; known: ${Object.keys(endpoints).join(', ')}`);
        const before = await committedSum(admin, group, input);
        const started = performance.now();
        const measured = await generateLoad(ctx, settings(system, shape.seconds));
        const appCommittedPerSec = Math.round(((await committedSum(admin, group, input)) - before) / ((performance.now() - started) / 1000));
        const result: RunResult = {
          system,
          requests: measured.requests,
          seconds: measured.seconds,
          requestsPerSec: measured.requestsPerSec,
          p50Ms: measured.p50Ms,
          p99Ms: measured.p99Ms,
          errors: measured.errors,
          timeouts: measured.timeouts,
          non2xx: measured.non2xx,
          records: measured.requests,
          recordsPerSec: measured.requestsPerSec,
          appCommittedPerSec,
        };
        say(
          `  round ${round} ${system}: ${result.recordsPerSec.toLocaleString()} requests/s, p50 ${measured.p50Ms} ms, p99 ${measured.p99Ms} ms, ` +
            `${measured.errors} errors, ${measured.non2xx} non-2xx; the application committed ${appCommittedPerSec.toLocaleString()} records/s meanwhile`,
        );
        best.offer(result);
      }
    }

    // Untimed: stop the feed; every sampled key must come to its true count.
    const total = await feeder.stop();
    feeder = undefined;
    await waitForCounts(endpoint, store, sample, (k) => sequentialCount(total, params.keys, k), 120_000);
    say(`  after ${total.toLocaleString()} records, ${sample.length} sampled keys answer their true counts`);

    await app.stop();
    await baseline.stop();
    const rss: Record<string, number | undefined> = { 'sluice-iq': app.peakRssMb, 'node-http': baseline.peakRssMb };
    const results: RunResult[] = best.results(systems, 0).map((r) => ({ ...(r as RunResult), peakRssMb: rss[r.system], verified: r.system === 'sluice-iq' ? true : undefined }));
    const node = results.find((r) => r.system === 'node-http');
    const sluice = results.find((r) => r.system === 'sluice-iq');
    if (node && sluice) sluice.vsNodeHttp = Number((sluice.recordsPerSec / node.recordsPerSec).toFixed(2));
    return {
      workload: workload.name,
      params: {
        ...params,
        ...shape,
        rounds,
        quick: flags.quick,
        'sluice-iq': `GET /v1/stores/${store}/keys/user-<n>, n uniformly random below keys, against the stateful-count topology's query server (fastify) while it processes the feed`,
        'node-http': 'a bare node:http server answering a constant JSON body of the same shape',
        loadGenerator: 'autocannon 9 (programmatic API) in a child process of its own; latency of every 2xx answer, hrtime resolution',
        appCommittedPerSec: 'input records the application committed per second during the round',
        verified: 'after the rounds, with the feed stopped, every sampled key answers its true count',
        pick: 'best round per system by requests/s',
        machine: machine(),
      },
      results,
    };
  } finally {
    await feeder?.stop().catch(() => undefined);
    app?.kill();
    baseline?.kill();
    await admin.deleteTopics(topics).catch(() => undefined);
    await admin.deleteGroups([group]).catch(() => undefined);
    admin.disconnect();
  }
}

interface LoadReport {
  requests: number;
  seconds: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

/** One run of the load generator in its own child process. */
async function generateLoad(ctx: BenchContext, settings: { url: string; connections: number; seconds: number; keys: number; pathPrefix: string }): Promise<LoadReport> {
  const child = ctx.launch('http-load', { BENCH_LOAD: JSON.stringify(settings) });
  try {
    await child.until('load report', () => child.saw('load'), (settings.seconds + 60) * 1000);
    return child.events.find((e) => e.event === 'load') as unknown as LoadReport;
  } finally {
    child.kill();
  }
}

/** Keys 0, step, 2·step, … and the last key: `size` of them, spread over every partition. */
function sampleKeys(keys: number, size: number): number[] {
  const n = Math.min(size, keys);
  const step = Math.max(1, Math.floor(keys / n));
  const sample = Array.from({ length: n - 1 }, (_, j) => j * step);
  sample.push(keys - 1);
  return sample;
}

/** Key k's count after `records` records with key i mod keys. */
function sequentialCount(records: number, keys: number, k: number): number {
  return k < records ? Math.floor((records - 1 - k) / keys) + 1 : 0;
}

/** Asks the query server for each sampled key until all answer their expected counts; throws with the wrong ones past the timeout. */
async function waitForCounts(endpoint: string, store: string, sample: number[], expected: (k: number) => number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const wrong: string[] = [];
    for (let j = 0; j < sample.length; j += 20) {
      await Promise.all(
        sample.slice(j, j + 20).map(async (k) => {
          const response = await fetch(`${endpoint}/v1/stores/${store}/keys/${keyName(k)}`);
          const body = (await response.json()) as { key?: unknown; value?: unknown };
          if (response.status !== 200 || body.key !== keyName(k) || body.value !== expected(k)) {
            wrong.push(`${keyName(k)}: ${response.status} ${JSON.stringify(body.value ?? body)}, expected ${expected(k)}`);
          }
        }),
      );
    }
    if (wrong.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${wrong.length} of ${sample.length} sampled keys answer wrongly, e.g. ${wrong.slice(0, 3).join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The results as a Markdown table. */
export function lookupTable(report: Report): string {
  const p = report.params;
  const lines = [
    `\n${report.workload}: ${p.keys.toLocaleString()} keys, ${String(p.connections)} connections, ${String(p.seconds)} s, feed ${Number(p.feedPerSec).toLocaleString()} records/s, best of ${String(p.rounds)}`,
    '| system | requests/s | p50 ms | p99 ms | errors | non-2xx | app committed/s | vs node-http |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of report.results as RunResult[]) {
    const ratio = r.system === 'node-http' ? '1.00×' : r.vsNodeHttp === undefined ? '—' : `${String(r.vsNodeHttp)}×`;
    lines.push(`| ${r.system} | ${r.recordsPerSec.toLocaleString()} | ${String(r.p50Ms)} | ${String(r.p99Ms)} | ${String(r.errors)} | ${String(r.non2xx)} | ${Number(r.appCommittedPerSec).toLocaleString()} | ${ratio} |`);
  }
  return lines.join('\n');
}
