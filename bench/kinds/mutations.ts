/**
 * `npm run bench -- mutations`: the mutation aggregator end to end (topologies/mutation-
 * aggregator.ts, exactly-once, PostgreSQL at DATABASE_URL or the local one).
 *
 * 1. Throughput: the input is filled with `records` mutations from 50 edge nodes on 10,000
 *    entities (5% duplicates, 10% stale edits, 10% dependent on the entity's previous mutation);
 *    the aggregator is timed from owning its partitions until every mutation has its terminal
 *    status on `mutation-status` (so everything was written to PostgreSQL, or decided).
 * 2. Latency: then, open loop, mutations on other entities are produced at `rate` per second
 *    for `seconds`; for each, the time from its send (the record timestamp) to the commit of its
 *    batch's database transaction, measured in the aggregator.
 * Reported: mutations/s and its ratio to the goal (100× a floor of 10,000 mutations a minute),
 * p50/p99 latency, the conflict rate and the batch sizes.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaConsumer } from '../../engine/kafka/consumer.ts';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { LocalPostgres } from '../../engine/local/postgres/local-postgres.ts';
import { mutationTopics } from '../../topologies/mutation-aggregator.ts';
import { generateMutations } from '../../topologies/lib/mutation-generator.ts';
import type { BenchContext } from '../context.ts';
import { SystemProcess } from '../system-process.ts';

/** 100 times a floor of 10,000 mutations a minute, the least an edge-sync service must take. */
export const GOAL_PER_SEC = Math.ceil((100 * 10_000) / 60);
const LATENCY_GOAL_MS = 500;

export interface MutationsReport {
  workload: 'mutations';
  params: Record<string, unknown>;
  results: Array<Record<string, unknown> & { system: string; records: number; seconds: number; recordsPerSec: number }>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the workload. `--records` sets the mutations of the throughput phase; `--instances` the
 * aggregator instances (processes) in the group, by default 2, one per core of the machine we
 * measure on.
 */
export async function runMutations(ctx: BenchContext): Promise<MutationsReport> {
  const { bootstrapServers, say } = ctx;
  const { quick } = ctx.flags;
  const records = ctx.flags.records ? Number(ctx.flags.records) : quick ? 20_000 : 300_000;
  const instanceCount = ctx.flags.instances ? Number(ctx.flags.instances) : 2;
  // Untimed, first: brokers and aggregators are long-running processes, measured warm (JIT,
  // connections, the sink's table). BENCH_WARMUP: how many mutations (0: none).
  const warmup = Number(process.env.BENCH_WARMUP ?? (quick ? 2_000 : 50_000));
  // BENCH_LATENCY_RATE: the open-loop rate to measure latency at.
  const rate = Number(process.env.BENCH_LATENCY_RATE ?? (quick ? 2_000 : 5_000));
  const seconds = quick ? 5 : 20;
  const run = randomUUID().slice(0, 8);
  const prefix = `bench-mut-${run}-`;
  const topics = mutationTopics(prefix);
  const databaseUrl = process.env.DATABASE_URL ?? (await new LocalPostgres({ progress: say }).start()).url;
  const schema = `bench_${run}`;
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const admin = KafkaAdmin.connect({ bootstrapServers });
  const group = `bench-mut-${run}`;
  try {
    await admin.createTopics(Object.values(topics).map((name) => ({ name, partitions: 6 })));
    const workload = generateMutations({ edgeNodes: 50, entities: 10_000, mutations: records, duplicates: 0.05, stale: 0.1, dependent: 0.1, orphans: 0, seed: 17 });
    const statusesWanted = workload.expected.size + workload.duplicatesSent;
    const statuses = await StatusCounter.start(bootstrapServers, topics.statuses);
    // BENCH_PROFILE=<dir> writes a V8 CPU profile of each instance there.
    const instances = Array.from({ length: instanceCount }, () =>
      new SystemProcess('mutation-aggregator', { KAFKA_BOOTSTRAP_SERVERS: bootstrapServers, BENCH_GROUP: group, BENCH_TOPIC_PREFIX: prefix, DATABASE_URL: url.toString(), BENCH_LATENCY_PREFIX: 'lat-', BENCH_WARMUP_PREFIX: 'warm-' }),
    );
    try {
      // The group settles before the mutations come, as in a deployment that runs: each instance
      // owns its partitions, and none is still joining.
      await Promise.all(instances.map((i) => i.until('owning partitions', () => i.saw('ready'), 180_000)));
      await sleep(1_000);
      if (warmup > 0) {
        const warm = generateMutations({ edgeNodes: 50, entities: 2_000, mutations: warmup, duplicates: 0.05, stale: 0.1, dependent: 0.1, orphans: 0, seed: 11, idPrefix: 'warm-', entityPrefix: 'w' });
        say(`Warming up: ${warmup.toLocaleString()} mutations on other entities, untimed...`);
        await produce(bootstrapServers, topics.input, warm.records);
        await until(() => statuses.count >= warm.expected.size + warm.duplicatesSent, 600_000, 'the warm-up statuses');
        statuses.reset();
      }
      say(`Sending ${records.toLocaleString()} mutations (${workload.duplicatesSent.toLocaleString()} duplicates, ${workload.conflicts.toLocaleString()} conflicts) to ${topics.input} (6 partitions), ${instances.length} aggregator instance(s)...`);
      // The clock runs from the first send: the aggregator processes while they are being sent.
      const started = performance.now();
      await produce(bootstrapServers, topics.input, workload.records);
      await until(() => statuses.count >= statusesWanted, 1_800_000, `${statusesWanted} statuses`);
      const drained = (performance.now() - started) / 1000;
      say(`  throughput: ${records.toLocaleString()} mutations in ${drained.toFixed(1)} s = ${Math.round(records / drained).toLocaleString()}/s`);

      const latencyWorkload = generateMutations({ edgeNodes: 50, entities: 2_000, mutations: rate * seconds, duplicates: 0, stale: 0.1, dependent: 0.1, orphans: 0, seed: 23, idPrefix: 'lat-', entityPrefix: 'l' });
      say(`  latency: producing ${(rate * seconds).toLocaleString()} mutations at ${rate.toLocaleString()}/s...`);
      await produceAtRate(bootstrapServers, topics.input, latencyWorkload.records, rate);
      await until(() => statuses.count >= statusesWanted + latencyWorkload.expected.size, 300_000, 'the latency phase statuses');
      const stopping = performance.now();
      await Promise.all(instances.map((i) => i.stop()));
      say(`  stopped in ${((performance.now() - stopping) / 1000).toFixed(1)} s`);
      const latencies = instances.flatMap((i) => i.event<{ latencies: number[] }>('measured').latencies).sort((a, b) => a - b);
      const at = (q: number) => (latencies.length === 0 ? undefined : latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]);
      const batchSizes = instances.flatMap((i) => i.event<{ batchSizes: number[] }>('measured').batchSizes);
      const byStatus = statuses.byStatus;
      const result = {
        system: 'sluice',
        records,
        seconds: drained,
        recordsPerSec: Math.round(records / drained),
        vsGoal: Number((records / drained / GOAL_PER_SEC).toFixed(2)),
        latencyRate: rate,
        p50Ms: at(0.5),
        p90Ms: at(0.9),
        p99Ms: at(0.99),
        maxMs: at(1),
        latencySamples: latencies.length,
        conflictRate: Number((workload.conflicts / workload.expected.size).toFixed(4)),
        statuses: byStatus,
        batches: batchDistribution(batchSizes),
        peakRssMb: Math.max(...instances.map((i) => i.event<{ peakRssMb: number }>('done').peakRssMb)),
      };
      say(`  latency: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (goal ≤ ${LATENCY_GOAL_MS} ms); batches ${JSON.stringify(result.batches)}`);
      return {
        workload: 'mutations',
        params: {
          records,
          partitions: 6,
          edgeNodes: 50,
          entities: 10_000,
          duplicates: 0.05,
          stale: 0.1,
          dependent: 0.1,
          guarantee: 'exactly_once',
          instances: instances.length,
          goalPerSec: GOAL_PER_SEC,
          latencyGoalMs: LATENCY_GOAL_MS,
          latency: { rate, seconds },
          warmup,
          done: 'every mutation has its terminal status on mutation-status',
        },
        results: [result],
      };
    } finally {
      // A stopping aggregator gets time to exit on its own (and write its profile).
      await Promise.all(instances.map((i) => i.stop()));
      await statuses.stop();
    }
  } finally {
    await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await db.end();
    admin.disconnect();
  }
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function produce(bootstrapServers: string, topic: string, records: Array<{ key: string; value: string }>): Promise<void> {
  const producer = await KafkaProducer.connect({ bootstrapServers });
  await producer.loadPartitionCounts([topic]);
  for (let i = 0; i < records.length; i++) {
    producer.send({ topic, key: Buffer.from(records[i]!.key), value: Buffer.from(records[i]!.value) });
    if (i % 50_000 === 49_999) await producer.flush();
  }
  await producer.disconnect();
}

/** Sends at `rate` records per second, in 10 ms slices, each record stamped with its send time. */
async function produceAtRate(bootstrapServers: string, topic: string, records: Array<{ key: string; value: string }>, rate: number): Promise<void> {
  const producer = await KafkaProducer.connect({ bootstrapServers, properties: { 'linger.ms': 1 } });
  await producer.loadPartitionCounts([topic]);
  const started = Date.now();
  let sent = 0;
  while (sent < records.length) {
    const due = Math.min(records.length, Math.floor(((Date.now() - started) * rate) / 1000));
    for (; sent < due; sent++) producer.send({ topic, key: Buffer.from(records[sent]!.key), value: Buffer.from(records[sent]!.value), timestamp: Date.now() });
    await sleep(10);
  }
  await producer.disconnect();
}

/** Counts `mutation-status` records (read committed) as they come, by status. */
class StatusCounter {
  count = 0;
  readonly byStatus: Record<string, number> = {};
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  private constructor(private readonly consumer: KafkaConsumer) {}

  /** Counts from zero again (after the warm-up: every one of its statuses came). */
  reset(): void {
    this.count = 0;
    for (const status of Object.keys(this.byStatus)) delete this.byStatus[status];
  }

  static async start(bootstrapServers: string, topic: string): Promise<StatusCounter> {
    const consumer = await KafkaConsumer.connect({ bootstrapServers, isolationLevel: 'read_committed' });
    consumer.assign(Array.from({ length: 6 }, (_, partition) => ({ topic, partition, offset: 0 })));
    const counter = new StatusCounter(consumer);
    counter.loop = counter.read();
    return counter;
  }

  private async read(): Promise<void> {
    while (this.running) {
      for (const record of await this.consumer.consume(5_000, 100)) {
        this.count++;
        const status = (JSON.parse(record.value!.toString()) as { status: string }).status;
        this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.consumer.disconnect();
  }
}

function batchDistribution(sizes: number[]): Record<string, number> {
  const buckets: Array<[string, number]> = [
    ['1', 1],
    ['2-10', 10],
    ['11-50', 50],
    ['51-100', 100],
    ['101-250', 250],
    ['251-500', 500],
    ['>500', Number.POSITIVE_INFINITY],
  ];
  const counts: Record<string, number> = Object.fromEntries(buckets.map(([name]) => [name, 0]));
  for (const size of sizes) counts[buckets.find(([, max]) => size <= max)![0]]!++;
  const total = sizes.reduce((a, b) => a + b, 0);
  return { ...counts, batches: sizes.length, mean: sizes.length ? Math.round(total / sizes.length) : 0 };
}

/** The result as a Markdown table. */
export function mutationsTable(report: MutationsReport): string {
  const r = report.results[0]!;
  return [
    `\nmutations: ${r.records.toLocaleString()} mutations, exactly-once, ${String(report.params.instances)} aggregator instance(s), into PostgreSQL; latency at ${String(r.latencyRate)}/s`,
    '| system | mutations/s | vs goal (' + GOAL_PER_SEC.toLocaleString() + '/s) | p50 ms | p99 ms | conflict rate | mean batch | peak RSS MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${r.system} | ${r.recordsPerSec.toLocaleString()} | ${String(r.vsGoal)}× | ${String(r.p50Ms)} | ${String(r.p99Ms)} | ${String(r.conflictRate)} | ${String((r.batches as { mean: number }).mean)} | ${String(r.peakRssMb)} |`,
  ].join('\n');
}
