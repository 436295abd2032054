import { randomUUID } from 'node:crypto';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import type { RestoreWorkload } from '../catalogue.ts';
import { machine, recordCount, type BenchContext, type Params } from '../context.ts';
import { BestOfRounds, fastest } from '../report/best-of-rounds.ts';
import type { Report, RunResult } from '../report/types.ts';
import { keyName } from '../workloads/stateful.ts';

/**
 * `restore`: fills a count store's changelog with `records` records (`keys` distinct keys,
 * each record a key's next count), then alternates (a) a plain read of that changelog to its
 * end and (b) Sluice restoring the store from it into an empty state directory. In the last
 * Sluice round, one record per sampled key then goes to the application's input, and each
 * output count must be the restored count plus one.
 */
export async function runRestore(ctx: BenchContext, workload: RestoreWorkload): Promise<Report> {
  const { say } = ctx;
  const params = ctx.paramsOf(workload);
  const systems = ctx.systemsOf(workload.systems);
  const rounds = ctx.roundsOf(workload);
  const run = randomUUID().slice(0, 8);
  const application = `bench-restore-${run}`;
  const changelog = `${application}-counts-changelog`;
  const input = `${application}-in`;
  const admin = KafkaAdmin.connect({ bootstrapServers: ctx.bootstrapServers });
  const topics = [changelog, input];
  try {
    await admin.createTopics([
      { name: changelog, partitions: params.partitions, config: { 'cleanup.policy': 'compact' } },
      { name: input, partitions: params.partitions },
    ]);
    say(`Filling ${changelog} with ${params.records.toLocaleString()} records over ${params.keys.toLocaleString()} keys (${params.partitions} partitions)...`);
    // Record i is key (i mod keys)'s count number floor(i / keys) + 1, as a count store logs it.
    await ctx.load(changelog, params.records, (i) => Buffer.from(keyName(i % params.keys)), (i) => Buffer.from(String(Math.floor(i / params.keys) + 1)));
    const finalCount = (k: number) => Math.floor((params.records - 1 - k) / params.keys) + 1;
    const best = new BestOfRounds(fastest);
    for (let round = 1; round <= rounds; round++) {
      for (const system of systems) {
        const verify = system === 'sluice' && round === rounds;
        const output = `${application}-out-${round}`;
        topics.push(output);
        await admin.createTopics([{ name: output, partitions: params.partitions }]);
        const script = system === 'sluice' ? 'sluice' : 'changelog-reader';
        const child = ctx.launch(script, {
          BENCH_WORKLOAD: 'restore',
          BENCH_INPUT: system === 'sluice' ? input : changelog,
          BENCH_OUTPUT: output,
          BENCH_GROUP: application,
          BENCH_PARTITIONS: String(params.partitions),
        });
        const result: RunResult = { system, records: params.records, seconds: 0, recordsPerSec: 0 };
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
            if (verify) result.verified = await verifyRestored(ctx, input, output, params, finalCount);
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
        best.offer(result);
      }
    }
    return {
      workload: workload.name,
      params: {
        ...params,
        rounds,
        quick: ctx.flags.quick,
        'raw-client': 'a plain read of the changelog to its end (engine/kafka/reader.ts readRanges, read_committed), records dropped',
        sluice: 'restoration of the count store into an empty state directory, timed from the first to the last restore progress report',
        pick: 'best round per system',
        machine: machine(),
      },
      results: best.results(systems, params.records),
    };
  } finally {
    await admin.deleteTopics(topics).catch(() => undefined);
    await admin.deleteGroups([application]).catch(() => undefined);
    admin.disconnect();
  }
}

/** Sends one record for each of up to 1,000 sampled keys; each output count must be the restored one plus one. */
async function verifyRestored(ctx: BenchContext, input: string, output: string, params: Params, finalCount: (k: number) => number): Promise<boolean> {
  const sample = Math.min(1000, params.keys);
  const step = Math.floor(params.keys / sample);
  await ctx.load(input, sample, (j) => Buffer.from(keyName(j * step)), () => Buffer.from('x'));
  const deadline = Date.now() + 60_000;
  const admin = KafkaAdmin.connect({ bootstrapServers: ctx.bootstrapServers });
  try {
    while ((await recordCount(admin, output)) < sample) {
      if (Date.now() > deadline) throw new Error('sluice did not count the sampled keys within 60 s of restoring');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    admin.disconnect();
  }
  const wrong: string[] = [];
  await ctx.readAll(output, params.partitions, (r) => {
    const k = Number(r.key!.toString().slice(5));
    if (Number(r.value!.toString()) !== finalCount(k) + 1) wrong.push(`${r.key!.toString()}=${r.value!.toString()}`);
  });
  if (wrong.length > 0) throw new Error(`after restoring, sluice counted wrongly: ${wrong.slice(0, 5).join(', ')}...`);
  ctx.say(`  sluice: ${sample} sampled keys counted on top of their restored counts`);
  return true;
}
