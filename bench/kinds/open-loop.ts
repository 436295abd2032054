/**
 * A stream workload open loop (`--rate n`): each run gets a fresh input that a feeder fills at n
 * records/s while the system runs, and a reader of the output measures the end-to-end latency of
 * every output record (bench/feed.ts); timed from the start of the feed until done, and the round with
 * the lowest p99 of each system is reported.
 */
import type { StreamWorkload } from '../catalogue.ts';
import type { BenchContext } from '../context.ts';
import { carriesTimestamps } from '../peers/launchers.ts';
import { lowestP99 } from '../report/best-of-rounds.ts';
import type { Report } from '../report/types.ts';
import { Feeder, LatencyReader } from '../feed.ts';
import { runStreamRounds } from './stream-rounds.ts';

export async function runOpenLoop(ctx: BenchContext, workload: StreamWorkload, rate: number): Promise<Report> {
  // The feed writes one input; a join's second input exists only closed loop (run.ts refuses it here).
  if (workload.second) throw new Error(`${workload.name} reads two inputs and runs closed loop only`);
  const params = ctx.paramsOf(workload);
  // By default 30 s of input at the rate (quick: 5 s).
  if (!ctx.flags.records) params.records = rate * (ctx.flags.quick ? 5 : 30);
  const key = (i: number) => Buffer.from(workload.key(i, params));
  const value = (i: number) => workload.value(i, params);
  return runStreamRounds(ctx, workload, params, {
    better: lowestP99,
    async prepare() {
      ctx.say(
        `Open loop: ${params.records.toLocaleString()} records of ${params.valueSize} bytes, ${params.keys.toLocaleString()} keys, at ${rate.toLocaleString()} records/s into a fresh input (${params.partitions} partitions) per run`,
      );
    },
    input: (output) => ({ topic: `${output}-in`, fresh: true }),
    async drive(run) {
      let reader: LatencyReader | undefined = await LatencyReader.start(ctx.bootstrapServers, run.output, params.partitions);
      const started = performance.now();
      let feeder: Feeder | undefined;
      const release = async () => {
        await feeder?.stop().catch(() => undefined);
        await reader?.stop().catch(() => undefined);
      };
      try {
        feeder = await Feeder.start(ctx.bootstrapServers, run.input, 0, rate, key, value, params.records);
        await Promise.race([feeder.sentAll, run.child.until('the feed to end', () => false, run.limitMs)]);
        await feeder.stop();
        feeder = undefined;
        const ends = [{ topic: run.input, ends: await run.admin.topicOffsets(run.input) }];
        return {
          started,
          ends,
          release,
          async measure(result) {
            const latency = await reader!.stop();
            reader = undefined;
            if (carriesTimestamps(run.script)) Object.assign(result, { p50Ms: latency.p50Ms, p99Ms: latency.p99Ms, maxMs: latency.maxMs, latencyRecords: latency.records });
            else result.latency = "not measured: its outputs do not carry the input records' timestamps";
          },
        };
      } catch (err) {
        await release();
        throw err;
      }
    },
    params: () => ({
      mode: 'open loop',
      ratePerSec: rate,
      latency: 'per output record: its arrival at a reader of the output minus its timestamp, the send time the feeder stamped on the input record; p50/p99 over all output records',
    }),
    timing: { timed: 'from the start of the feed until done', pick: 'round with the lowest p99 per system' },
  });
}
