/**
 * A stream workload closed loop (the default): the input is filled once, and each run drains it
 * as fast as the system can, timed from ready until done; the fastest round of each system is
 * reported.
 */
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import type { StreamWorkload } from '../catalogue.ts';
import type { BenchContext } from '../context.ts';
import { fastest } from '../report/best-of-rounds.ts';
import type { Report } from '../report/types.ts';
import { runStreamRounds, type Ends } from './stream-rounds.ts';

export async function runClosedLoop(ctx: BenchContext, workload: StreamWorkload): Promise<Report> {
  const params = ctx.paramsOf(workload);
  let input = '';
  let ends: Ends = [];
  return runStreamRounds(ctx, workload, params, {
    better: fastest,
    async prepare(run) {
      input = `bench-${workload.name}-${run}-in`;
      const admin = KafkaAdmin.connect({ bootstrapServers: ctx.bootstrapServers });
      try {
        await admin.createTopics([{ name: input, partitions: params.partitions }]);
        ctx.say(`Loading ${params.records.toLocaleString()} records of ${params.valueSize} bytes, ${params.keys.toLocaleString()} keys, into ${input} (${params.partitions} partitions)...`);
        const timestamp = workload.timestamp;
        await ctx.load(
          input,
          params.records,
          (i) => Buffer.from(workload.key(i, params)),
          (i) => workload.value(i, params),
          timestamp && ((i) => timestamp(i, params)),
        );
        ends = await admin.topicOffsets(input);
      } finally {
        admin.disconnect();
      }
    },
    input: () => ({ topic: input, fresh: false }),
    drive: async () => ({ started: performance.now(), ends, measure: async () => {}, release: async () => {} }),
    params: () => ({ mode: 'closed loop' }),
    timing: { timed: 'from ready until done', pick: 'best round per system' },
  });
}
