/**
 * The long chaos run (`npm run chaos`): the eos-chaos topology on several instances, one of
 * them kill -9ed every few seconds while records flow, then every output checked against the
 * input (see chaos/run.ts, which test/chaos/eos.test.ts runs too). Starts the local broker
 * unless KAFKA_BOOTSTRAP_SERVERS names one. Progress goes to standard error, a JSON summary
 * (records, kills, duration, violations per invariant) to standard output; the exit status is 1
 * if anything was violated.
 *
 *   npm run chaos -- --records 1000000 --kills 20 --instances 3 --guarantee exactly_once
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalBroker } from '../engine/local/kafka/local-broker.ts';
import { ChaosRun, describeViolations, type Guarantee, type KillMoment } from './chaos/run.ts';

const USAGE = `usage: node --import tsx scripts/chaos.ts [options]
  --records <n>          input records (default 1000000)
  --kills <n>            kill -9s, each followed by a restart (default 20)
  --instances <n>        instances running at once, at least 2 (default 3)
  --guarantee <g>        exactly_once (default) or at_least_once
  --keys <n>             distinct keys (default 100)
  --kill-interval <ms>   mean time between kills (default 10000); records flow over (kills + 1) intervals
  --rate <n>             input records per second instead
  --moments <list>       when kills come, in turn: steady, rebalance, catch-up, warm-up (default steady)
  --standbys <n>         standby replicas per task (default 0)
  --named                named instances (static members; a restart warms up before it joins)
  --queries              query the instances throughout, and check no answer shows what was never committed
  --async-input <where>  what the async stage reads: shared (the input's source, default) or
                         repartitioned (a repartition topic of its own: a replayable input)
  --clean                stop each victim with SIGTERM (a clean stop, handing its reads over) instead of kill -9
  --restart-pause <ms>   how long a killed instance stays down (default 1500)
  --seed <n>             seed of the key sequence (default random)
  --logs <dir>           where the instances' logs go if the run fails (default <tmp>/sluice-chaos-logs)
  --keep                 keep the run's topics and state directories even when it passes`;

const say = (line: string) => process.stderr.write(line + '\n');

function fail(message: string): never {
  say(`${message}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      records: { type: 'string', default: '1000000' },
      kills: { type: 'string', default: '20' },
      instances: { type: 'string', default: '3' },
      guarantee: { type: 'string', default: 'exactly_once' },
      keys: { type: 'string', default: '100' },
      'kill-interval': { type: 'string', default: '10000' },
      rate: { type: 'string' },
      moments: { type: 'string', default: 'steady' },
      standbys: { type: 'string', default: '0' },
      named: { type: 'boolean', default: false },
      queries: { type: 'boolean', default: false },
      'async-input': { type: 'string', default: 'shared' },
      clean: { type: 'boolean', default: false },
      'restart-pause': { type: 'string', default: '1500' },
      seed: { type: 'string' },
      logs: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
} catch (err) {
  fail((err as Error).message);
}
const flags = parsed.values;
if (flags.help) {
  say(USAGE);
  process.exit(0);
}

function integer(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer of at least ${min}, not "${value}".`);
  return n;
}

const guarantee = flags.guarantee as Guarantee;
if (guarantee !== 'exactly_once' && guarantee !== 'at_least_once') fail(`--guarantee must be exactly_once or at_least_once, not "${flags.guarantee}".`);
const records = integer('records', flags.records, 1)!;
const kills = integer('kills', flags.kills, 0)!;
const instances = integer('instances', flags.instances, 2)!;
const keys = integer('keys', flags.keys, 1)!;
const killIntervalMs = integer('kill-interval', flags['kill-interval'], 100)!;
const ratePerSec = integer('rate', flags.rate, 1);
const seed = integer('seed', flags.seed, 0);
const standbys = integer('standbys', flags.standbys, 0)!;
const restartPauseMs = integer('restart-pause', flags['restart-pause'], 0)!;
const MOMENTS: readonly KillMoment[] = ['steady', 'rebalance', 'catch-up', 'warm-up'];
const moments = flags.moments.split(',').map((m) => m.trim()) as KillMoment[];
for (const m of moments) if (!MOMENTS.includes(m)) fail(`--moments takes ${MOMENTS.join(', ')}, not "${m}".`);
const asyncInput = flags['async-input'];
if (asyncInput !== 'shared' && asyncInput !== 'repartitioned') fail(`--async-input must be shared or repartitioned, not "${asyncInput}".`);

process.env.KAFKA_BOOTSTRAP_SERVERS ??= (await new LocalBroker({ progress: (line) => say(`[broker] ${line}`) }).start()).address;

const run = new ChaosRun({
  guarantee,
  records,
  kills,
  instances,
  keys,
  killIntervalMs,
  ratePerSec,
  seed,
  moments,
  standbys,
  named: flags.named,
  queries: flags.queries,
  asyncInput,
  restartPauseMs,
  clean: flags.clean,
  cleanup: !flags.keep,
  logDir: flags.logs ?? path.join(os.tmpdir(), 'sluice-chaos-logs'),
  progress: say,
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    say(`${signal}: killing the instances`);
    run.killAll();
    process.exit(130);
  });
}

const summary = await run.run();
process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
say(
  summary.ok
    ? `chaos run passed: ${summary.records} records, ${summary.kills} kills, ${(summary.durationMs / 1000).toFixed(1)} s, no violations`
    : `chaos run FAILED:\n${describeViolations(summary)}\ninstance logs: ${run.options.logDir}`,
);
process.exit(summary.ok ? 0 : 1);
