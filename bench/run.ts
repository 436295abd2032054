/**
 * The benchmark harness: `npm run bench -- <workload|all> [--quick] [--out <file>]
 * [--systems a,b] [--rounds n]`.
 *
 * A load phase fills the input topic once; then each system, in a child process of its own,
 * drains it with a fresh consumer group into an output topic of its own. A run is timed from
 * the moment the system owns its partitions until its output holds every expected record.
 * Systems alternate over the rounds and the best round of each is reported, so background
 * noise on a shared machine hurts every system alike. Results follow DESIGN.md's contract.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KafkaAdmin } from '../engine/kafka/admin.ts';
import { LocalBroker } from '../engine/kafka/local-broker/local-broker.ts';
import { KafkaProducer } from '../engine/kafka/producer.ts';
import { expectedOutputs, statelessValue } from './workloads/stateless.ts';

interface Result {
  system: string;
  records: number;
  seconds: number;
  recordsPerSec: number;
  peakRssMb?: number;
}

interface Workload {
  name: string;
  systems: string[];
  params: (quick: boolean) => { records: number; valueSize: number; partitions: number; keys: number };
  value: (i: number, params: { keys: number; valueSize: number }) => Buffer;
  expected: (records: number) => number;
}

const WORKLOADS: Record<string, Workload> = {
  stateless: {
    name: 'stateless',
    systems: ['raw-client', 'sluice'],
    params: (quick) => ({ records: quick ? 50_000 : 1_000_000, valueSize: 256, partitions: 6, keys: 10_000 }),
    value: (i, p) => statelessValue(i, p.keys, p.valueSize),
    expected: expectedOutputs,
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
  },
});
const requested = positionals[0] ?? 'all';
const names = requested === 'all' ? Object.keys(WORKLOADS) : [requested];
for (const name of names) {
  if (!WORKLOADS[name]) {
    process.stderr.write(`Unknown workload "${name}"; known: ${Object.keys(WORKLOADS).join(', ')}, all.\n`);
    process.exit(2);
  }
}
const say = (line: string) => process.stderr.write(line + '\n');
const bootstrapServers = process.env.KAFKA_BOOTSTRAP_SERVERS ?? (await new LocalBroker({ progress: say }).start()).address;

for (const name of names) {
  const workload = WORKLOADS[name]!;
  const report = await runWorkload(workload);
  const out = flags.out ?? path.join(HERE, 'results', `${name}${flags.quick ? '-quick' : ''}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(table(report) + `\nwritten to ${path.relative(process.cwd(), out)}\n`);
}

async function runWorkload(workload: Workload) {
  const params = workload.params(flags.quick);
  const systems = flags.systems ? flags.systems.split(',') : workload.systems;
  const rounds = Number(flags.rounds ?? (flags.quick ? 1 : 3));
  const run = randomUUID().slice(0, 8);
  const input = `bench-${workload.name}-${run}-in`;
  const admin = KafkaAdmin.connect({ bootstrapServers });
  const topics = [input];
  try {
    await admin.createTopics([{ name: input, partitions: params.partitions }]);
    say(`Loading ${params.records.toLocaleString()} records of ${params.valueSize} bytes into ${input} (${params.partitions} partitions)...`);
    await load(input, params, workload);
    const expected = workload.expected(params.records);
    const best = new Map<string, Result>();
    for (let round = 1; round <= rounds; round++) {
      for (const system of systems) {
        const output = `bench-${workload.name}-${run}-${system}-${round}`;
        topics.push(output);
        await admin.createTopics([{ name: output, partitions: params.partitions }]);
        const result = await runSystem(admin, system, input, output, expected, `${run}-${system}-${round}`);
        result.records = params.records;
        result.recordsPerSec = Math.round(params.records / result.seconds);
        say(`  round ${round} ${system}: ${result.recordsPerSec.toLocaleString()} records/s (${result.seconds.toFixed(2)} s, peak RSS ${result.peakRssMb} MB)`);
        const previous = best.get(system);
        if (!previous || result.seconds < previous.seconds) best.set(system, result);
      }
    }
    return {
      workload: workload.name,
      params: { ...params, rounds, quick: flags.quick, pick: 'best round per system', machine: machine() },
      results: systems.map((s) => best.get(s)!),
    };
  } finally {
    await admin.deleteTopics(topics).catch(() => undefined);
    admin.disconnect();
  }
}

async function load(topic: string, params: ReturnType<Workload['params']>, workload: Workload): Promise<void> {
  const producer = await KafkaProducer.connect({ bootstrapServers });
  await producer.loadPartitionCounts([topic]);
  for (let i = 0; i < params.records; i++) {
    producer.send({ topic, key: Buffer.from(`user-${i % params.keys}`), value: workload.value(i, params) });
    if (i % 100_000 === 99_999) await producer.flush();
  }
  await producer.disconnect();
}

/** Runs one system in a child process; times it from "ready" until the output is complete. */
async function runSystem(admin: KafkaAdmin, system: string, input: string, output: string, expected: number, group: string): Promise<Result> {
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of each system run there.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(process.env.BENCH_PROFILE, system)}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(HERE, 'systems', `${system}.ts`)], {
    env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: bootstrapServers, BENCH_INPUT: input, BENCH_OUTPUT: output, BENCH_GROUP: `bench-${group}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const events: Array<Record<string, unknown>> = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl; (nl = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(nl + 1)) {
      try {
        events.push(JSON.parse(buffered.slice(0, nl)));
      } catch {
        // not a protocol line
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const until = async (what: string, test: () => boolean | Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await test())) {
      if (child.exitCode !== null) throw new Error(`${system} exited (${child.exitCode}) before ${what}`);
      if (Date.now() > deadline) throw new Error(`${system}: no ${what} within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    await until('ready', () => events.some((e) => e.event === 'ready'), 120_000);
    const started = performance.now();
    await until('complete output', async () => (await admin.topicOffsets(output)).reduce((n, p) => n + p.high, 0) >= expected, 600_000);
    const seconds = (performance.now() - started) / 1000;
    child.kill('SIGTERM');
    await until('exit', () => child.exitCode !== null, 60_000).catch(() => child.kill('SIGKILL'));
    await exited;
    const done = events.find((e) => e.event === 'done');
    return { system, records: 0, seconds, recordsPerSec: 0, peakRssMb: done?.peakRssMb as number | undefined };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

function table(report: Awaited<ReturnType<typeof runWorkload>>): string {
  const base = report.results.find((r) => r.system === 'raw-client');
  const lines = [
    `\n${report.workload}: ${report.params.records.toLocaleString()} records, ${report.params.valueSize} B, ${report.params.partitions} partitions, best of ${report.params.rounds}`,
    '| system | records/s | seconds | peak RSS MB | vs raw-client |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of report.results) {
    const ratio = base ? (r.recordsPerSec / base.recordsPerSec).toFixed(2) + '×' : '—';
    lines.push(`| ${r.system} | ${r.recordsPerSec.toLocaleString()} | ${r.seconds.toFixed(2)} | ${r.peakRssMb ?? '—'} | ${ratio} |`);
  }
  return lines.join('\n');
}

function machine() {
  return { cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency, node: process.version, platform: process.platform };
}
