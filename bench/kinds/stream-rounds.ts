/**
 * The rounds of a stream workload, closed loop or open loop alike: each round, each system in a
 * child process of its own, with a fresh consumer group and an output topic of its own, timed
 * until it is done (its output holds every expected record, or its group committed the end of
 * each input: a join reads two); a stateful output is then checked outside the timing. The
 * loop's mode decides where the input comes from and when the clock starts. A peer that cannot be installed, or fails, is
 * reported as skipped with the reason (with its rate so far when it was merely too slow); a
 * failure of raw-client or Sluice fails the run.
 */
import { randomUUID } from 'node:crypto';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { inputRecords, type BenchService, type StreamWorkload } from '../catalogue.ts';
import { committedSum, committedToEnd, machine, recordCount, type BenchContext, type Params, type TopicEnds } from '../context.ts';
import { isPeer, knownIssue, PEERS, PEER_VERSIONS, prepareSystem } from '../peers/launchers.ts';
import { addRatios, BestOfRounds, type Better } from '../report/best-of-rounds.ts';
import type { Report, RunResult } from '../report/types.ts';
import type { SystemProcess } from '../system-process.ts';
import { LatencyReader } from '../feed.ts';

/** Systems that run another system's script with other settings. */
const VARIANTS: Record<string, { script: string; env: Record<string, string> }> = {
  'sluice-eos': { script: 'sluice', env: { BENCH_GUARANTEE: 'exactly_once', BENCH_COMMIT_INTERVAL_MS: '100' } },
  'sluice-avro-store': { script: 'sluice', env: { BENCH_STORE_SERDE: 'avro' } },
  'raw-client-sequential': { script: 'raw-client-async', env: { BENCH_CONCURRENCY: '1' } },
  'sluice-2-threads': { script: 'sluice', env: { BENCH_THREADS: '2' } },
  'kafka-streams-2-threads': { script: 'kafka-streams', env: { BENCH_THREADS: '2' } },
};

/** One system's run in one round, once it is ready. */
export interface SystemRun {
  system: string;
  script: string;
  input: string;
  /** A join's second input. */
  second?: string;
  output: string;
  child: SystemProcess;
  admin: KafkaAdmin;
  /** How long it may take before it is given up (peers: --peer-timeout). */
  limitMs: number;
}

/** What a mode does with a run between ready and done. */
export interface Driven {
  /** When the clock started (performance.now()). */
  started: number;
  /** Each input's end offsets once all of it is there. */
  ends: TopicEnds[];
  /** Adds what the mode measures besides the rate (latency) to the result, once done. */
  measure(result: RunResult): Promise<void>;
  /** Stops whatever the mode started for the run; called however the run ended. */
  release(): Promise<void>;
}

/** Closed loop or open loop. */
export interface StreamMode {
  better: Better;
  /** Before the rounds (the closed loop fills its one input here). */
  prepare(run: string): Promise<void>;
  /** The input a run reads (and a join's second input), and whether the run needs it created. */
  input(output: string): { topic: string; fresh: boolean; second?: string };
  /** From ready: starts the clock (and the feed, open loop). */
  drive(run: SystemRun): Promise<Driven>;
  /** The mode's params in the report: `mode`, and what the open loop adds. */
  params(): Record<string, unknown>;
  /** From when to when a run is timed, and which round is reported. */
  timing: { timed: string; pick: string };
}

/** Runs a stream workload's rounds in `mode` and reports each system's best. */
export async function runStreamRounds(ctx: BenchContext, workload: StreamWorkload, params: Params, mode: StreamMode): Promise<Report> {
  const { flags, say } = ctx;
  const peers = workload.peers === true ? PEERS : workload.peers || [];
  const systems = flags.systems === 'all' ? [...workload.systems, ...peers] : ctx.systemsOf(workload.systems);
  const rounds = ctx.roundsOf(workload);
  // A join's rate counts the records of both its inputs.
  const records = inputRecords(workload, params);
  const run = randomUUID().slice(0, 8);
  const admin = KafkaAdmin.connect({ bootstrapServers: ctx.bootstrapServers });
  const groups: string[] = [];
  const best = new BestOfRounds(mode.better);
  const peerTimeoutMs = Number(flags['peer-timeout']) * 1000;
  const bound = workload.bound?.(params);
  let service: BenchService | undefined;
  try {
    for (const system of systems) {
      await prepareSystem(scriptOf(system), say).catch((err: Error) => {
        if (!isPeer(scriptOf(system))) throw err;
        best.skip(system, `could not be installed: ${err.message}`);
        say(`  ${system}: skipped, could not be installed: ${err.message}`);
      });
    }
    await mode.prepare(run);
    if (workload.service) service = await workload.service(ctx, params);

    for (let round = 1; round <= rounds; round++) {
      for (const system of systems) {
        if (best.isSkipped(system)) continue;
        const script = scriptOf(system);
        const output = `bench-${workload.name}-${run}-${system}-${round}`;
        const group = `bench-${run}-${system}-${round}`;
        const input = mode.input(output);
        // A system timed over a prefix of the input: the rate is over those records.
        const runRecords = workload.prefix?.[system]?.(params) ?? records;
        groups.push(group);
        await admin.createTopics([{ name: output, partitions: params.partitions }, ...(input.fresh ? [{ name: input.topic, partitions: params.partitions }] : [])]);
        const reader = workload.done !== 'committed' && workload.done.read ? await LatencyReader.start(ctx.bootstrapServers, output, params.partitions, 'read_committed', true) : undefined;
        const child = ctx.launch(script, {
          BENCH_WORKLOAD: workload.runs ?? workload.name,
          BENCH_INPUT: input.topic,
          ...(input.second ? { BENCH_INPUT2: input.second } : {}),
          BENCH_OUTPUT: output,
          BENCH_GROUP: group,
          BENCH_COMMIT_INTERVAL_MS: String(params.commitIntervalMs),
          ...(workload.env?.(params) ?? {}),
          ...(service?.env ?? {}),
          ...(VARIANTS[system]?.env ?? {}),
        });
        const systemRun: SystemRun = { system, script, input: input.topic, ...(input.second ? { second: input.second } : {}), output, child, admin, limitMs: isPeer(script) ? peerTimeoutMs : 900_000 };
        let driven: Driven | undefined;
        let started = performance.now();
        let result: RunResult;
        try {
          await child.until('ready', () => child.saw('ready'), isPeer(script) ? 90_000 : 120_000);
          driven = await mode.drive(systemRun);
          started = driven.started;
          const measured = await service?.measure(child);
          const left = () => systemRun.limitMs - (performance.now() - started);
          if (workload.done === 'committed') {
            const ends = driven.ends;
            await child.until('committed end offsets', () => committedToEnd(admin, group, ends), left(), 100);
          } else {
            const expected = runRecords < records ? runRecords : workload.done.outputs(params);
            const count = reader ? () => reader.count : () => recordCount(admin, output);
            await child.until('complete output', async () => (await count()) >= expected, left());
          }
          const seconds = (performance.now() - started) / 1000;
          result = { system, records: runRecords, seconds, recordsPerSec: Math.round(runRecords / seconds) };
          if (runRecords < records) result.prefix = `the first ${runRecords.toLocaleString('en-US')} input records of ${records.toLocaleString('en-US')}`;
          if (measured) Object.assign(result, await measured());
          await driven.measure(result);
          await child.stop();
          Object.assign(result, { peakRssMb: child.peakRssMb, ...(child.atPeak ? { atPeak: child.atPeak } : {}) });
          if (workload.checker) {
            const checker = workload.checker(params, { records: runRecords, exactlyOnce: VARIANTS[system]?.env.BENCH_GUARANTEE === 'exactly_once' });
            await ctx.readAll(output, params.partitions, (r) => checker.add(r.key, r.value));
            const verdict = checker.result();
            result.outputs = verdict.outputs;
            say(`  round ${round} ${system}: output check ${JSON.stringify(verdict)}`);
            if (!verdict.ok) throw new Error(`${system} wrote a wrong output (in ${seconds.toFixed(2)} s, ${result.recordsPerSec.toLocaleString()} records/s): ${JSON.stringify(verdict)}`);
            result.verified = true;
          }
        } catch (err) {
          if (!isPeer(scriptOf(system))) throw err;
          await skipFailedPeer(systemRun, err as Error, { admin, group, round, records, started, best, say });
          continue;
        } finally {
          await driven?.release().catch(() => undefined);
          await reader?.stop().catch(() => undefined);
          child.kill();
        }
        const latencyNote = result.p50Ms === undefined ? '' : `, latency p50 ${String(result.p50Ms)} ms, p99 ${String(result.p99Ms)} ms`;
        say(`  round ${round} ${system}: ${result.recordsPerSec.toLocaleString()} records/s (${result.seconds.toFixed(2)} s${latencyNote}, peak RSS ${String(result.peakRssMb)} MB)`);
        best.offer(result);
      }
    }
    const results = best.results(systems, records);
    addRatios(results, bound?.recordsPerSec);
    return {
      workload: workload.name,
      params: {
        ...params,
        ...(workload.second ? { secondInput: { name: workload.second.name, records: workload.second.records(params) } } : {}),
        ...(bound ? { bound } : {}),
        rounds,
        quick: flags.quick,
        ...mode.params(),
        done: workload.done === 'committed' ? 'group committed the input end offsets' : 'output holds every expected record',
        ...mode.timing,
        peerVersions: PEER_VERSIONS,
        machine: machine(),
      },
      results,
    };
  } finally {
    await service?.stop().catch(() => undefined);
    // Every topic of this run, the peers' internal ones included, carries the run id.
    const topics = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.includes(run));
    await admin.deleteTopics(topics).catch(() => undefined);
    await admin.deleteGroups(groups).catch(() => undefined);
    admin.disconnect();
  }
}

/** A peer that failed: skipped from now on; one merely too slow to finish keeps its rate over the time it had. */
async function skipFailedPeer(
  run: SystemRun,
  err: Error,
  at: { admin: KafkaAdmin; group: string; round: number; records: number; started: number; best: BestOfRounds; say: (line: string) => void },
): Promise<void> {
  const { system, script, input, second, child } = run;
  const committed = await committedSum(at.admin, at.group, second ? [input, second] : input).catch(() => 0);
  const elapsed = (performance.now() - at.started) / 1000;
  const reason =
    `${err.message}; it had committed ${committed.toLocaleString()} of ${at.records.toLocaleString()} input records` +
    (committed > 0 ? ` (${Math.round(committed / elapsed).toLocaleString()} records/s over ${elapsed.toFixed(0)} s)` : '') +
    (child.stderrTail ? `; its last output: ${child.stderrTail}` : '') +
    (knownIssue(script) ? `. Known issue: ${knownIssue(script)}` : '');
  at.best.skip(system, reason);
  at.say(`  round ${at.round} ${system}: failed, ${reason}`);
  if (child.saw('ready') && committed > 0) {
    at.best.offerIfNone({
      system,
      records: committed,
      seconds: elapsed,
      recordsPerSec: Math.round(committed / elapsed),
      incomplete: `did not finish: ${err.message}; the rate is over the records it committed in that time`,
    });
  }
}

function scriptOf(system: string): string {
  return VARIANTS[system]?.script ?? system;
}
