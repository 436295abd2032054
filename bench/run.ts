/**
 * The benchmark harness: `npm run bench -- <workload|all> [--quick] [--out <file>]
 * [--systems a,b|all] [--rounds n] [--records n] [--keys n] [--rate n] [--peer-timeout s]`.
 *
 * `--systems all` adds the peers a workload supports (bench/peers/launchers.ts: Kafka Streams,
 * Quix Streams, @kafkats/flow, the kafka-streams npm package), installed on first use; a peer
 * that cannot be installed or fails is reported as skipped with the reason, and one still
 * running after `--peer-timeout` seconds (default 600) is reported with its partial rate.
 * `--rate n` runs a stream workload open loop (bench/open-loop.ts) and reports p50/p99 latency.
 *
 * A load phase fills the input topic once; then each system, in a child process of its own,
 * drains it with a fresh consumer group into an output topic of its own. A run is timed from
 * the moment the system owns its partitions until it is done: its output holds every expected
 * record, or (stateful workloads, whose output is one update per changed key per commit) its
 * group has committed the input's end offsets. Systems alternate over the rounds and the best
 * round of each is reported, so background noise on a shared machine hurts every system alike.
 * Results follow DESIGN.md's contract.
 *
 * `iq-lookups` is of another kind: it measures interactive queries (HTTP point lookups of a
 * running application's store) against a bare node:http server; see runLookups.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KafkaAdmin } from '../engine/kafka/admin.ts';
import { KafkaConsumer } from '../engine/kafka/consumer.ts';
import { LocalBroker } from '../engine/local/kafka/local-broker.ts';
import { KafkaProducer } from '../engine/kafka/producer.ts';
import { Feeder, LatencyReader } from './open-loop.ts';
import { carriesTimestamps, isPeer, knownIssue, PEERS, PEER_VERSIONS, prepareSystem } from './peers/launchers.ts';
import { writeReportFiles } from './report/files.ts';
import { SystemProcess } from './system-process.ts';
import { readRanges } from '../engine/kafka/reader.ts';
import type { ConsumedRecord } from '../engine/kafka/records.ts';
import { expectedOutputs, statelessValue } from './workloads/stateless.ts';
import { GOAL_PER_SEC, runMutations, type MutationsReport } from './mutations.ts';
import { CountChecker, keyIndex, keyName, statefulValue, trueCounts, type KeyOrder } from './workloads/stateful.ts';

interface Result {
  system: string;
  records: number;
  seconds: number;
  recordsPerSec: number;
  peakRssMb?: number;
  [extra: string]: unknown;
}

interface Params {
  records: number;
  valueSize: number;
  partitions: number;
  keys: number;
  keyOrder?: KeyOrder;
  commitIntervalMs: number;
}

/** A workload whose systems read an input topic and write an output topic. */
interface StreamWorkload {
  kind: 'stream';
  name: string;
  systems: string[];
  params: (quick: boolean) => Params;
  rounds?: (quick: boolean) => number;
  key: (i: number, p: Params) => string;
  value: (i: number, p: Params) => Buffer;
  /** When a run is complete: its output holds this many records, or its group committed the input's end. */
  done: { outputs: (p: Params) => number } | 'committed';
  /** Whether the peers (kafka-streams, quix-streams, the Node peers) implement it; `--systems all` adds them. */
  peers?: boolean;
  /** Checks a finished run's output (outside the timing); throws if it is wrong. */
  checker?: (p: Params) => { add(key: Buffer | null, value: Buffer | null): void; result(): { ok: boolean } & Record<string, unknown> };
}

/** The restoration workload: a pre-filled changelog, read plainly vs restored into a store. */
interface RestoreWorkload {
  kind: 'restore';
  name: string;
  systems: string[];
  params: (quick: boolean) => Params;
}

/** Interactive queries: HTTP point lookups of a running application's count store while it keeps processing. */
interface LookupWorkload {
  kind: 'lookups';
  name: string;
  systems: string[];
  params: (quick: boolean) => Params;
  rounds: (quick: boolean) => number;
  load: (quick: boolean) => LookupLoad;
}

interface LookupLoad {
  /** Load-phase records per key; `records` is `keys` times this unless --records is given. */
  recordsPerKey: number;
  /** Records per second written to the input while the lookups run. */
  feedPerSec: number;
  connections: number;
  seconds: number;
  /** An untimed run against each server before the first round. */
  warmupSeconds: number;
  /** Keys whose answers are checked against their true counts. */
  sample: number;
}

type Workload = StreamWorkload | RestoreWorkload | LookupWorkload;

const COMMIT_INTERVAL_MS = 1000;

/** Systems that run another system's script with other settings. */
const VARIANTS: Record<string, { script: string; env: Record<string, string> }> = {
  'sluice-eos': { script: 'sluice', env: { BENCH_GUARANTEE: 'exactly_once', BENCH_COMMIT_INTERVAL_MS: '100' } },
  'sluice-avro-store': { script: 'sluice', env: { BENCH_STORE_SERDE: 'avro' } },
};

/** The stateful count over 100,000 keys (1M records), checked against the true counts. */
function countWorkload(name: string, systems: string[]): StreamWorkload {
  return {
    kind: 'stream',
    name,
    systems,
    params: (quick) => ({ records: quick ? 50_000 : 1_000_000, valueSize: 100, partitions: 6, keys: 100_000, keyOrder: 'hashed', commitIntervalMs: COMMIT_INTERVAL_MS }),
    key: (i, p) => keyName(keyIndex(i, p.keys, p.keyOrder!)),
    value: (i, p) => statefulValue(i, p.valueSize),
    done: 'committed',
    checker: (p) => new CountChecker(trueCounts(p.records, p.keys, p.keyOrder!)),
  };
}

const WORKLOADS: Record<string, Workload> = {
  stateless: {
    kind: 'stream',
    name: 'stateless',
    systems: ['raw-client', 'sluice'],
    peers: true,
    params: (quick) => ({ records: quick ? 50_000 : 1_000_000, valueSize: 256, partitions: 6, keys: 10_000, commitIntervalMs: COMMIT_INTERVAL_MS }),
    key: (i, p) => `user-${i % p.keys}`,
    value: (i, p) => statelessValue(i, p.keys, p.valueSize),
    done: { outputs: (p) => expectedOutputs(p.records) },
  },
  // The count over 100,000 keys: beside the raw client; at-least-once (1 s commits) against
  // exactly-once (100 ms transactions); store values in JSON against Avro.
  'stateful-count': { ...countWorkload('stateful-count', ['raw-client', 'sluice']), peers: true },
  'stateful-count-eos': countWorkload('stateful-count-eos', ['sluice', 'sluice-eos']),
  'store-serde': countWorkload('store-serde', ['sluice', 'sluice-avro-store']),
  'stateful-rss': {
    kind: 'stream',
    name: 'stateful-rss',
    systems: ['sluice'],
    params: (quick) => {
      const records = quick ? 200_000 : 5_000_000;
      return { records, valueSize: 16, partitions: 6, keys: records, keyOrder: 'sequential', commitIntervalMs: COMMIT_INTERVAL_MS };
    },
    rounds: () => 1,
    key: (i, p) => keyName(keyIndex(i, p.keys, p.keyOrder!)),
    value: (i, p) => statefulValue(i, p.valueSize),
    done: 'committed',
    checker: (p) => new CountChecker(trueCounts(p.records, p.keys, p.keyOrder!)),
  },
  restore: {
    kind: 'restore',
    name: 'restore',
    systems: ['raw-client', 'sluice'],
    params: (quick) => {
      const records = quick ? 50_000 : 1_000_000;
      return { records, valueSize: 0, partitions: 6, keys: records, commitIntervalMs: COMMIT_INTERVAL_MS };
    },
  },
  'iq-lookups': {
    kind: 'lookups',
    name: 'iq-lookups',
    systems: ['sluice-iq', 'node-http'],
    params: (quick) => {
      const keys = quick ? 1_000 : 10_000;
      return { records: keys * 10, valueSize: 100, partitions: 6, keys, keyOrder: 'sequential', commitIntervalMs: COMMIT_INTERVAL_MS };
    },
    rounds: (quick) => (quick ? 1 : 2),
    load: (quick) => ({ recordsPerKey: 10, feedPerSec: 5_000, connections: 10, seconds: quick ? 3 : 10, warmupSeconds: quick ? 1 : 3, sample: quick ? 200 : 1_000 }),
  },
};

const HERE = import.meta.dirname;
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    systems: { type: 'string' },
    rounds: { type: 'string' },
    records: { type: 'string' },
    keys: { type: 'string' },
    rate: { type: 'string' },
    // mutations: aggregator instances in the group (processes).
    instances: { type: 'string' },
    'peer-timeout': { type: 'string', default: '600' },
  },
});
const requested = positionals[0] ?? 'all';
// `mutations` runs an application of its own with PostgreSQL (bench/mutations.ts).
const names = requested === 'all' ? [...Object.keys(WORKLOADS), 'mutations'] : [requested];
for (const name of names) {
  if (!WORKLOADS[name] && name !== 'mutations') {
    process.stderr.write(`Unknown workload "${name}"; known: ${Object.keys(WORKLOADS).join(', ')}, mutations, all.\n`);
    process.exit(2);
  }
}
if (flags.out && names.length > 1) {
  process.stderr.write('--out names one file: give one workload with it.\n');
  process.exit(2);
}
const say = (line: string) => process.stderr.write(line + '\n');
const bootstrapServers = process.env.KAFKA_BOOTSTRAP_SERVERS ?? (await new LocalBroker({ progress: say }).start()).address;

function paramsOf(workload: Workload): Params {
  const params = workload.params(flags.quick);
  // Workloads with one record per key keep it that way when --records changes the count.
  const keyPerRecord = params.keys === params.records;
  if (flags.records) params.records = Number(flags.records);
  if (flags.keys) params.keys = Number(flags.keys);
  else if (keyPerRecord) params.keys = params.records;
  return params;
}

function roundsOf(workload: Workload): number {
  return Number(flags.rounds ?? (workload.kind !== 'restore' && workload.rounds ? workload.rounds(flags.quick) : flags.quick ? 1 : 3));
}

/** A system that did not run: not installable, or failed, with the reason. */
interface Skipped {
  system: string;
  records: number;
  seconds: null;
  recordsPerSec: null;
  skipped: true;
  reason: string;
  [extra: string]: unknown;
}

type ReportEntry = Result | Skipped;

interface Report {
  workload: string;
  params: Params & Record<string, unknown>;
  results: ReportEntry[];
}

/**
 * A stream workload. Closed loop (the default): the input is filled once, and each run drains
 * it as fast as the system can. Open loop (`--rate n`): each run gets a fresh input that a
 * feeder fills at n records/s while the system runs, and a reader of the output measures the
 * end-to-end latency (bench/open-loop.ts). A peer that cannot be installed, or fails, is
 * reported as skipped with the reason; a failure of raw-client or Sluice fails the run.
 */
async function runWorkload(workload: StreamWorkload): Promise<Report> {
  const params = paramsOf(workload);
  const rate = flags.rate ? Number(flags.rate) : undefined;
  // Open loop: by default 30 s of input at the rate (quick: 5 s).
  if (rate && !flags.records) params.records = rate * (flags.quick ? 5 : 30);
  const systems = systemsOf(workload);
  const rounds = roundsOf(workload);
  const run = randomUUID().slice(0, 8);
  const admin = KafkaAdmin.connect({ bootstrapServers });
  const groups: string[] = [];
  const best = new Map<string, Result>();
  const skipped = new Map<string, string>();
  const peerTimeoutMs = Number(flags['peer-timeout']) * 1000;
  const key = (i: number) => Buffer.from(workload.key(i, params));
  const value = (i: number) => workload.value(i, params);
  try {
    for (const system of systems) {
      await prepareSystem(scriptOf(system), say).catch((err: Error) => {
        if (!isPeer(system)) throw err;
        skipped.set(system, `could not be installed: ${err.message}`);
        say(`  ${system}: skipped, ${skipped.get(system)}`);
      });
    }
    let shared: { input: string; ends: Array<{ partition: number; high: number }> } | undefined;
    if (!rate) {
      const input = `bench-${workload.name}-${run}-in`;
      await admin.createTopics([{ name: input, partitions: params.partitions }]);
      say(`Loading ${params.records.toLocaleString()} records of ${params.valueSize} bytes, ${params.keys.toLocaleString()} keys, into ${input} (${params.partitions} partitions)...`);
      await load(input, params.records, key, value);
      shared = { input, ends: await admin.topicOffsets(input) };
    } else {
      say(`Open loop: ${params.records.toLocaleString()} records of ${params.valueSize} bytes, ${params.keys.toLocaleString()} keys, at ${rate.toLocaleString()} records/s into a fresh input (${params.partitions} partitions) per run`);
    }

    for (let round = 1; round <= rounds; round++) {
      for (const system of systems) {
        if (skipped.has(system)) continue;
        const script = scriptOf(system);
        const output = `bench-${workload.name}-${run}-${system}-${round}`;
        const group = `bench-${run}-${system}-${round}`;
        const input = shared?.input ?? `${output}-in`;
        groups.push(group);
        await admin.createTopics([{ name: output, partitions: params.partitions }, ...(shared ? [] : [{ name: input, partitions: params.partitions }])]);
        const child = launchSystem(script, {
          BENCH_WORKLOAD: workload.name,
          BENCH_INPUT: input,
          BENCH_OUTPUT: output,
          BENCH_GROUP: group,
          BENCH_COMMIT_INTERVAL_MS: String(params.commitIntervalMs),
          ...(VARIANTS[system]?.env ?? {}),
        });
        const limitMs = isPeer(system) ? peerTimeoutMs : 900_000;
        let result: Result;
        let reader: LatencyReader | undefined;
        let feeder: Feeder | undefined;
        let started = performance.now();
        try {
          await child.until('ready', () => child.saw('ready'), isPeer(system) ? 90_000 : 120_000);
          let ends = shared?.ends;
          if (rate) {
            reader = await LatencyReader.start(bootstrapServers, output, params.partitions);
            started = performance.now();
            feeder = await Feeder.start(bootstrapServers, input, 0, rate, key, value, params.records);
            await Promise.race([feeder.sentAll, child.until('the feed to end', () => false, limitMs)]);
            await feeder.stop();
            feeder = undefined;
            ends = await admin.topicOffsets(input);
          }
          const done = workload.done;
          if (done === 'committed') {
            await child.until('committed end offsets', () => committedToEnd(admin, group, input, ends!), limitMs - (performance.now() - started), 100);
          } else {
            const expected = done.outputs(params);
            await child.until('complete output', async () => (await outputCount(admin, output)) >= expected, limitMs - (performance.now() - started));
          }
          const seconds = (performance.now() - started) / 1000;
          result = { system, records: params.records, seconds, recordsPerSec: Math.round(params.records / seconds) };
          if (reader) {
            const latency = await reader.stop();
            reader = undefined;
            if (carriesTimestamps(script)) Object.assign(result, { p50Ms: latency.p50Ms, p99Ms: latency.p99Ms, maxMs: latency.maxMs, latencyRecords: latency.records });
            else result.latency = 'not measured: its outputs do not carry the input records\' timestamps';
          }
          await child.stop();
          Object.assign(result, { peakRssMb: child.peakRssMb, ...(child.atPeak ? { atPeak: child.atPeak } : {}) });
          if (workload.checker) {
            const checker = workload.checker(params);
            await readAll(output, params.partitions, (r) => checker.add(r.key, r.value));
            const verdict = checker.result();
            result.outputs = verdict.outputs;
            say(`  round ${round} ${system}: output check ${JSON.stringify(verdict)}`);
            if (!verdict.ok) throw new Error(`${system} wrote wrong counts: ${JSON.stringify(verdict)}`);
            result.verified = true;
          }
        } catch (err) {
          if (!isPeer(system)) throw err;
          const committed = await committedSum(admin, group, input).catch(() => 0);
          const elapsed = (performance.now() - started) / 1000;
          const reason = `${(err as Error).message}; it had committed ${committed.toLocaleString()} of ${params.records.toLocaleString()} input records` + (committed > 0 ? ` (${Math.round(committed / elapsed).toLocaleString()} records/s over ${elapsed.toFixed(0)} s)` : '') + (child.stderrTail ? `; its last output: ${child.stderrTail}` : '') + (knownIssue(script) ? `. Known issue: ${knownIssue(script)}` : '');
          skipped.set(system, reason);
          say(`  round ${round} ${system}: failed, ${reason}`);
          // A peer too slow to finish within --peer-timeout still gets its rate over the time it had.
          if (child.saw('ready') && committed > 0 && !best.has(system)) {
            best.set(system, { system, records: committed, seconds: elapsed, recordsPerSec: Math.round(committed / elapsed), incomplete: `did not finish: ${(err as Error).message}; the rate is over the records it committed in that time` });
          }
          continue;
        } finally {
          await feeder?.stop().catch(() => undefined);
          await reader?.stop().catch(() => undefined);
          child.kill();
        }
        const latencyNote = result.p50Ms === undefined ? '' : `, latency p50 ${String(result.p50Ms)} ms, p99 ${String(result.p99Ms)} ms`;
        say(`  round ${round} ${system}: ${result.recordsPerSec.toLocaleString()} records/s (${result.seconds.toFixed(2)} s${latencyNote}, peak RSS ${String(result.peakRssMb)} MB)`);
        const previous = best.get(system);
        // Closed loop: the fastest round. Open loop: the round with the lowest p99.
        const better = !previous || (rate && result.p99Ms !== undefined ? (result.p99Ms as number) < (previous.p99Ms as number) : result.seconds < previous.seconds);
        if (better) best.set(system, result);
      }
    }
    const results: ReportEntry[] = systems.map((s) => best.get(s) ?? { system: s, records: params.records, seconds: null, recordsPerSec: null, skipped: true, reason: skipped.get(s) ?? 'no round finished' });
    addRatios(results);
    return {
      workload: workload.name,
      params: {
        ...params,
        rounds,
        quick: flags.quick,
        mode: rate ? 'open loop' : 'closed loop',
        ...(rate ? { ratePerSec: rate, latency: 'per output record: its arrival at a reader of the output minus its timestamp, the send time the feeder stamped on the input record; p50/p99 over all output records' } : {}),
        done: workload.done === 'committed' ? 'group committed the input end offsets' : 'output holds every expected record',
        timed: rate ? 'from the start of the feed until done' : 'from ready until done',
        pick: rate ? 'round with the lowest p99 per system' : 'best round per system',
        peerVersions: PEER_VERSIONS,
        machine: machine(),
      },
      results,
    };
  } finally {
    // Every topic of this run, the peers' internal ones included, carries the run id.
    const topics = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.includes(run));
    await admin.deleteTopics(topics).catch(() => undefined);
    await admin.deleteGroups(groups).catch(() => undefined);
    admin.disconnect();
  }
}

async function outputCount(admin: KafkaAdmin, topic: string): Promise<number> {
  return (await admin.topicOffsets(topic)).reduce((n, p) => n + p.high, 0);
}

/** The systems a run compares: `--systems a,b`, `--systems all` (the workload's own and every peer it supports), or the workload's own. */
function systemsOf(workload: StreamWorkload): string[] {
  if (flags.systems === 'all') return [...workload.systems, ...(workload.peers ? PEERS : [])];
  return flags.systems ? flags.systems.split(',') : workload.systems;
}

function scriptOf(system: string): string {
  return VARIANTS[system]?.script ?? system;
}

/** Throughput relative to raw-client and to kafka-streams, where both ran. */
function addRatios(results: ReportEntry[]): void {
  const rate = (name: string) => results.find((r) => r.system === name)?.recordsPerSec ?? null;
  const raw = rate('raw-client');
  const java = rate('kafka-streams');
  for (const r of results) {
    if (r.recordsPerSec === null) continue;
    if (raw) r.vsRawClient = Number((r.recordsPerSec / raw).toFixed(2));
    if (java) r.vsKafkaStreams = Number((r.recordsPerSec / java).toFixed(2));
  }
}

/**
 * `restore`: fills a count store's changelog with `records` records (`keys` distinct keys,
 * each record a key's next count), then alternates (a) a plain read of that changelog to its
 * end and (b) Sluice restoring the store from it into an empty state directory. In the last
 * Sluice round, one record per sampled key then goes to the application's input, and each
 * output count must be the restored count plus one.
 */
async function runRestore(workload: RestoreWorkload): Promise<Report> {
  const params = paramsOf(workload);
  const systems = flags.systems ? flags.systems.split(',') : workload.systems;
  const rounds = roundsOf(workload);
  const run = randomUUID().slice(0, 8);
  const application = `bench-restore-${run}`;
  const changelog = `${application}-counts-changelog`;
  const input = `${application}-in`;
  const admin = KafkaAdmin.connect({ bootstrapServers });
  const topics = [changelog, input];
  try {
    await admin.createTopics([
      { name: changelog, partitions: params.partitions, config: { 'cleanup.policy': 'compact' } },
      { name: input, partitions: params.partitions },
    ]);
    say(`Filling ${changelog} with ${params.records.toLocaleString()} records over ${params.keys.toLocaleString()} keys (${params.partitions} partitions)...`);
    // Record i is key (i mod keys)'s count number floor(i / keys) + 1, as a count store logs it.
    await load(changelog, params.records, (i) => Buffer.from(keyName(i % params.keys)), (i) => Buffer.from(String(Math.floor(i / params.keys) + 1)));
    const finalCount = (k: number) => Math.floor((params.records - 1 - k) / params.keys) + 1;
    const best = new Map<string, Result>();
    for (let round = 1; round <= rounds; round++) {
      for (const system of systems) {
        const verify = system === 'sluice' && round === rounds;
        const output = `${application}-out-${round}`;
        topics.push(output);
        await admin.createTopics([{ name: output, partitions: params.partitions }]);
        const script = system === 'sluice' ? 'sluice' : 'changelog-reader';
        const child = launchSystem(script, {
          BENCH_WORKLOAD: 'restore',
          BENCH_INPUT: system === 'sluice' ? input : changelog,
          BENCH_OUTPUT: output,
          BENCH_GROUP: application,
          BENCH_PARTITIONS: String(params.partitions),
        });
        const result: Result = { system, records: params.records, seconds: 0, recordsPerSec: 0 };
        try {
          if (system === 'sluice') {
            await child.until('restoration', () => child.events.some((e) => e.event === 'restore' && e.done === true), 900_000);
            const progress = child.events.filter((e) => e.event === 'restore');
            const first = progress[0]!;
            const last = progress.at(-1)!;
            const starting = child.events.find((e) => e.event === 'starting')!;
            if (last.restored !== params.records) throw new Error(`sluice restored ${String(last.restored)} records, not ${params.records}`);
            result.seconds = ((last.atMs as number) - (first.atMs as number)) / 1000;
            result.secondsFromStart = Number((((last.atMs as number) - (starting.atMs as number)) / 1000).toFixed(2));
            result.rssAfterRestoreMb = last.rssMb;
            await child.until('ready', () => child.saw('ready'), 60_000);
            if (verify) result.verified = await verifyRestored(input, output, params, finalCount);
          } else {
            await child.until('read', () => child.saw('read'), 900_000);
            const read = child.events.find((e) => e.event === 'read')!;
            if (read.records !== params.records) throw new Error(`the reader read ${String(read.records)} records, not ${params.records}`);
            result.seconds = read.seconds as number;
          }
          await child.stop();
        } finally {
          child.kill();
        }
        result.recordsPerSec = Math.round(params.records / result.seconds);
        result.peakRssMb = child.peakRssMb;
        say(`  round ${round} ${system}: ${result.recordsPerSec.toLocaleString()} records/s (${result.seconds.toFixed(2)} s, peak RSS ${result.peakRssMb} MB)`);
        const previous = best.get(system);
        if (!previous || result.seconds < previous.seconds) best.set(system, result);
      }
    }
    return {
      workload: workload.name,
      params: {
        ...params,
        rounds,
        quick: flags.quick,
        'raw-client': 'a plain read of the changelog to its end (engine/kafka/reader.ts readRanges, read_committed), records dropped',
        sluice: 'restoration of the count store into an empty state directory, timed from the first to the last restore progress report',
        pick: 'best round per system',
        machine: machine(),
      },
      results: systems.map((s) => best.get(s)!),
    };
  } finally {
    await admin.deleteTopics(topics).catch(() => undefined);
    await admin.deleteGroups([application]).catch(() => undefined);
    admin.disconnect();
  }
}

/** Sends one record for each of up to 1,000 sampled keys; each output count must be the restored one plus one. */
async function verifyRestored(input: string, output: string, params: Params, finalCount: (k: number) => number): Promise<boolean> {
  const sample = Math.min(1000, params.keys);
  const step = Math.floor(params.keys / sample);
  await load(input, sample, (j) => Buffer.from(keyName(j * step)), () => Buffer.from('x'));
  const deadline = Date.now() + 60_000;
  const admin = KafkaAdmin.connect({ bootstrapServers });
  try {
    while ((await admin.topicOffsets(output)).reduce((n, p) => n + p.high, 0) < sample) {
      if (Date.now() > deadline) throw new Error('sluice did not count the sampled keys within 60 s of restoring');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    admin.disconnect();
  }
  const wrong: string[] = [];
  await readAll(output, params.partitions, (r) => {
    const k = Number(r.key!.toString().slice(5));
    if (Number(r.value!.toString()) !== finalCount(k) + 1) wrong.push(`${r.key!.toString()}=${r.value!.toString()}`);
  });
  if (wrong.length > 0) throw new Error(`after restoring, sluice counted wrongly: ${wrong.slice(0, 5).join(', ')}...`);
  say(`  sluice: ${sample} sampled keys counted on top of their restored counts`);
  return true;
}

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
async function runLookups(workload: LookupWorkload): Promise<Report> {
  const params = paramsOf(workload);
  const shape = workload.load(flags.quick);
  if (!flags.records) params.records = params.keys * shape.recordsPerKey;
  const systems = flags.systems ? flags.systems.split(',') : workload.systems;
  const rounds = roundsOf(workload);
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
    await load(input, params.records, key, value);
    app = launchSystem('sluice', {
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

    baseline = launchSystem('node-http', {});
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
    for (const system of systems) await generateLoad(settings(system, shape.warmupSeconds));

    const best = new Map<string, Result>();
    for (let round = 1; round <= rounds; round++) {
      for (const system of systems) {
        if (!endpoints[system]) throw new Error(`unknown system "${system}" for ${workload.name}; known: ${Object.keys(endpoints).join(', ')}`);
        const before = await committedSum(admin, group, input);
        const started = performance.now();
        const measured = await generateLoad(settings(system, shape.seconds));
        const appCommittedPerSec = Math.round(((await committedSum(admin, group, input)) - before) / ((performance.now() - started) / 1000));
        const result: Result = {
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
        const previous = best.get(system);
        if (!previous || result.recordsPerSec > previous.recordsPerSec) best.set(system, result);
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
    const results: Result[] = systems.map((s) => ({ ...best.get(s)!, peakRssMb: rss[s], verified: s === 'sluice-iq' ? true : undefined }));
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
async function generateLoad(settings: { url: string; connections: number; seconds: number; keys: number; pathPrefix: string }): Promise<LoadReport> {
  const child = launchSystem('http-load', { BENCH_LOAD: JSON.stringify(settings) });
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

async function committedSum(admin: KafkaAdmin, group: string, topic: string): Promise<number> {
  return (await admin.groupOffsets(group)).filter((o) => o.topic === topic && o.offset > 0).reduce((n, o) => n + o.offset, 0);
}

/** A benchmarked system on the harness's cluster. */
function launchSystem(script: string, env: Record<string, string>): SystemProcess {
  return new SystemProcess(script, { KAFKA_BOOTSTRAP_SERVERS: bootstrapServers, ...env });
}

async function committedToEnd(admin: KafkaAdmin, group: string, topic: string, ends: Array<{ partition: number; high: number }>): Promise<boolean> {
  const committed = new Map((await admin.groupOffsets(group)).filter((o) => o.topic === topic).map((o) => [o.partition, o.offset]));
  return ends.every(({ partition, high }) => high === 0 || (committed.get(partition) ?? -1) >= high);
}

async function load(topic: string, records: number, key: (i: number) => Buffer, value: (i: number) => Buffer): Promise<void> {
  const producer = await KafkaProducer.connect({ bootstrapServers });
  await producer.loadPartitionCounts([topic]);
  for (let i = 0; i < records; i++) {
    producer.send({ topic, key: key(i), value: value(i) });
    if (i % 100_000 === 99_999) await producer.flush();
  }
  await producer.disconnect();
}

/** Reads every record of `topic`, partition by partition in offset order, without keeping them. */
async function readAll(topic: string, partitions: number, onRecord: (record: ConsumedRecord) => void): Promise<void> {
  const consumer = await KafkaConsumer.connect({ bootstrapServers, isolationLevel: 'read_committed' });
  try {
    const ranges = [];
    for (let partition = 0; partition < partitions; partition++) {
      const { low, high } = await consumer.watermarks(topic, partition);
      ranges.push({ topic, partition, from: low, to: high });
    }
    await readRanges(consumer, ranges, (batch) => batch.forEach(onRecord));
  } finally {
    await consumer.disconnect();
  }
}

function lookupTable(report: Report): string {
  const p = report.params;
  const lines = [
    `\n${report.workload}: ${p.keys.toLocaleString()} keys, ${String(p.connections)} connections, ${String(p.seconds)} s, feed ${Number(p.feedPerSec).toLocaleString()} records/s, best of ${String(p.rounds)}`,
    '| system | requests/s | p50 ms | p99 ms | errors | non-2xx | app committed/s | vs node-http |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of report.results as Result[]) {
    const ratio = r.system === 'node-http' ? '1.00×' : r.vsNodeHttp === undefined ? '—' : `${String(r.vsNodeHttp)}×`;
    lines.push(`| ${r.system} | ${r.recordsPerSec.toLocaleString()} | ${String(r.p50Ms)} | ${String(r.p99Ms)} | ${String(r.errors)} | ${String(r.non2xx)} | ${Number(r.appCommittedPerSec).toLocaleString()} | ${ratio} |`);
  }
  return lines.join('\n');
}

function mutationsTable(report: MutationsReport): string {
  const r = report.results[0]!;
  return [
    `\nmutations: ${r.records.toLocaleString()} mutations, exactly-once, ${String(report.params.instances)} aggregator instance(s), into PostgreSQL; latency at ${String(r.latencyRate)}/s`,
    '| system | mutations/s | vs goal (' + GOAL_PER_SEC.toLocaleString() + '/s) | p50 ms | p99 ms | conflict rate | mean batch | peak RSS MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${r.system} | ${r.recordsPerSec.toLocaleString()} | ${String(r.vsGoal)}× | ${String(r.p50Ms)} | ${String(r.p99Ms)} | ${String(r.conflictRate)} | ${String((r.batches as { mean: number }).mean)} | ${String(r.peakRssMb)} |`,
  ].join('\n');
}

function machine() {
  return { cpus: os.availableParallelism(), node: process.version, platform: process.platform };
}

for (const name of names) {
  if (name === 'mutations') {
    const report = await runMutations({ bootstrapServers, quick: flags.quick, records: flags.records ? Number(flags.records) : undefined, instances: flags.instances ? Number(flags.instances) : undefined, say });
    const out = flags.out ?? path.join(HERE, 'results', `mutations${flags.quick ? '-quick' : ''}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(mutationsTable(report) + `\nwritten to ${path.relative(process.cwd(), out)}\n`);
    continue;
  }
  const workload = WORKLOADS[name]!;
  const report = workload.kind === 'stream' ? await runWorkload(workload) : workload.kind === 'restore' ? await runRestore(workload) : await runLookups(workload);
  const suffix = `${flags.quick ? '-quick' : ''}${workload.kind === 'stream' && flags.rate ? '-open-loop' : ''}`;
  const out = flags.out ?? path.join(HERE, 'results', `${name}${suffix}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  // Stream workloads also get a Markdown table and an SVG chart beside the JSON.
  const summary = workload.kind === 'lookups' ? lookupTable(report) : '\n' + writeReportFiles(report, out);
  process.stdout.write(summary + `\nwritten to ${path.relative(process.cwd(), out)}\n`);
}
