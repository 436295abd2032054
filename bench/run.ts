/**
 * The benchmark harness: `npm run bench -- <workload|all> [--quick] [--out <file>]
 * [--systems a,b|all] [--rounds n] [--records n] [--keys n] [--rate n] [--instances n]
 * [--peer-timeout s]`. Runs each workload (catalogue.ts) with the runner of its kind (kinds/)
 * and writes its results as JSON in the form docs/benchmarks.md fixes: to `--out`, else
 * `bench/results/<workload>[-quick][-open-loop].json`, with a Markdown table and an SVG chart
 * beside it for the stream and restore workloads. The method and the figures: bench/README.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalBroker } from '../engine/local/kafka/local-broker.ts';
import { WORKLOADS, type Workload } from './catalogue.ts';
import { BenchContext } from './context.ts';
import { runClosedLoop } from './kinds/closed-loop.ts';
import { lookupTable, runLookups } from './kinds/lookups.ts';
import { mutationsTable, runMutations } from './kinds/mutations.ts';
import { runOpenLoop } from './kinds/open-loop.ts';
import { runRestore } from './kinds/restore.ts';
import { failoverTable, runFailover } from './kinds/failover.ts';
import { writeReportFiles } from './report/files.ts';

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
const names = requested === 'all' ? Object.keys(WORKLOADS) : [requested];
for (const name of names) {
  if (!WORKLOADS[name]) {
    process.stderr.write(`Unknown workload "${name}"; known: ${Object.keys(WORKLOADS).join(', ')}, all.\n`);
    process.exit(2);
  }
}
// Workloads whose records carry event times of their own run closed loop only: an open-loop
// feed stamps each record with its send time. So do the joins, whose second input the feed does
// not write. `all --rate` leaves them out.
const closedLoopOnly = (name: string) => {
  const workload = WORKLOADS[name]!;
  return workload.kind === 'stream' && (workload.timestamp !== undefined || workload.second !== undefined);
};
if (flags.rate && requested !== 'all' && closedLoopOnly(requested)) {
  process.stderr.write(`${requested} runs closed loop only: its records carry event times of their own, which an open-loop feed would replace with its send times, or it reads a second input the feed does not write.\n`);
  process.exit(2);
}
if (flags.out && names.length > 1) {
  process.stderr.write('--out names one file: give one workload with it.\n');
  process.exit(2);
}
const say = (line: string) => process.stderr.write(line + '\n');
const bootstrapServers = process.env.KAFKA_BOOTSTRAP_SERVERS ?? (await new LocalBroker({ progress: say }).start()).address;
const ctx = new BenchContext(flags, bootstrapServers, say);
const rate = flags.rate ? Number(flags.rate) : undefined;

/** Runs one workload; returns its report and what to print about it once written to `out`. */
async function run(workload: Workload): Promise<{ report: object; summary: (out: string) => string }> {
  switch (workload.kind) {
    case 'stream': {
      const report = rate ? await runOpenLoop(ctx, workload, rate) : await runClosedLoop(ctx, workload);
      return { report, summary: (out) => '\n' + writeReportFiles(report, out) };
    }
    case 'restore': {
      const report = await runRestore(ctx, workload);
      return { report, summary: (out) => '\n' + writeReportFiles(report, out) };
    }
    case 'lookups': {
      const report = await runLookups(ctx, workload);
      return { report, summary: () => lookupTable(report) };
    }
    case 'failover': {
      const report = await runFailover(ctx, workload);
      return { report, summary: () => failoverTable(report) };
    }
    case 'mutations': {
      const report = await runMutations(ctx);
      return { report, summary: () => mutationsTable(report) };
    }
  }
}

for (const name of names) {
  if (flags.rate && closedLoopOnly(name)) continue;
  const workload = WORKLOADS[name]!;
  const { report, summary } = await run(workload);
  const suffix = `${flags.quick ? '-quick' : ''}${workload.kind === 'stream' && rate ? '-open-loop' : ''}`;
  const out = flags.out ?? path.join(import.meta.dirname, 'results', `${name}${suffix}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(summary(out) + `\nwritten to ${path.relative(process.cwd(), out)}\n`);
}
