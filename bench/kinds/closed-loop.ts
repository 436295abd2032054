/**
 * A stream workload closed loop (the default): the input (and a join's second input) is filled
 * once, and each run drains it as fast as the system can, timed from ready until done; the
 * fastest round of each system is reported.
 */
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import type { StreamWorkload } from '../catalogue.ts';
import type { BenchContext, Params, TopicEnds } from '../context.ts';
import { fastest } from '../report/best-of-rounds.ts';
import type { Report } from '../report/types.ts';
import { runStreamRounds } from './stream-rounds.ts';

/** One input topic's records: the workload's main input, or its second. */
interface InputSpec {
  topic: string;
  /** What the log says it loads. */
  what: string;
  records: number;
  key: (i: number, p: Params) => string;
  value: (i: number, p: Params) => Buffer;
  timestamp?: (i: number, p: Params) => number;
}

export async function runClosedLoop(ctx: BenchContext, workload: StreamWorkload): Promise<Report> {
  const params = ctx.paramsOf(workload);
  let input = '';
  let second: string | undefined;
  let ends: TopicEnds[] = [];
  return runStreamRounds(ctx, workload, params, {
    better: fastest,
    async prepare(run) {
      input = `bench-${workload.name}-${run}-in`;
      const specs: InputSpec[] = [];
      // A join's second input (the table) goes first: nothing depends on it, as its timestamps
      // order the processing, but it reads naturally in the log.
      if (workload.second) {
        second = `bench-${workload.name}-${run}-${workload.second.name}`;
        const records = workload.second.records(params);
        specs.push({ ...workload.second, topic: second, records, what: `${records.toLocaleString()} ${workload.second.name}` });
      }
      specs.push({
        topic: input,
        records: params.records,
        what: `${params.records.toLocaleString()} records of ${params.valueSize} bytes, ${params.keys.toLocaleString()} keys,`,
        key: workload.key,
        value: workload.value,
        ...(workload.timestamp ? { timestamp: workload.timestamp } : {}),
      });
      const admin = KafkaAdmin.connect({ bootstrapServers: ctx.bootstrapServers });
      try {
        await admin.createTopics(specs.map((spec) => ({ name: spec.topic, partitions: params.partitions })));
        ends = [];
        for (const spec of specs) {
          ctx.say(`Loading ${spec.what} into ${spec.topic} (${params.partitions} partitions)...`);
          const timestamp = spec.timestamp;
          await ctx.load(
            spec.topic,
            spec.records,
            (i) => Buffer.from(spec.key(i, params)),
            (i) => spec.value(i, params),
            timestamp && ((i) => timestamp(i, params)),
          );
          ends.push({ topic: spec.topic, ends: await admin.topicOffsets(spec.topic) });
        }
      } finally {
        admin.disconnect();
      }
    },
    input: () => ({ topic: input, fresh: false, ...(second ? { second } : {}) }),
    drive: async () => ({ started: performance.now(), ends, measure: async () => {}, release: async () => {} }),
    params: () => ({ mode: 'closed loop' }),
    timing: { timed: 'from ready until done', pick: 'best round per system' },
  });
}
