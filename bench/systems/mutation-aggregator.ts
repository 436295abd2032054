/**
 * The mutation aggregator (topologies/mutation-aggregator.ts) as a benchmark system, exactly-once
 * as it is deployed. Its topics are `BENCH_TOPIC_PREFIX` + the contract names, its database
 * `DATABASE_URL`. It measures, for mutations whose id starts with `BENCH_LATENCY_PREFIX`, the
 * time from the record's timestamp (set by the producer when it sent it) to the moment their
 * batch's database transaction committed, and the size of every batch written; both come in
 * the `done` line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Application } from '../../engine/runtime/application.ts';
import { createLogger } from '../../engine/observability/logger.ts';
import definition, { DEFAULT_SETTINGS, mutationAggregator, mutationTopics } from '../../topologies/mutation-aggregator.ts';
import { announceReady, trackMemory } from './protocol.ts';

const memory = trackMemory();
const latencyPrefix = process.env.BENCH_LATENCY_PREFIX ?? 'lat-';
const latencies: number[] = [];
const batchSizes: number[] = [];
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));

const app = Application.create(
  {
    ...definition,
    // BENCH_KAFKA: extra client properties as JSON, for experiments.
    kafka: { ...definition.kafka, ...(process.env.BENCH_KAFKA ? (JSON.parse(process.env.BENCH_KAFKA) as Record<string, string | number>) : {}) },
    topology: (builder) =>
      mutationAggregator(builder, mutationTopics(process.env.BENCH_TOPIC_PREFIX ?? ''), {
        ...DEFAULT_SETTINGS,
        onCommitted: (batch) => {
          const now = Date.now();
          batchSizes.push(batch.count);
          for (const record of batch.records) if (record.value.mutation.id.startsWith(latencyPrefix)) latencies.push(now - record.timestamp);
        },
      }),
  },
  { bootstrapServers: process.env.KAFKA_BOOTSTRAP_SERVERS, applicationId: process.env.BENCH_GROUP, logger: createLogger({}, 'warn'), stateDir },
);
app.lifecycle.onChange((to) => {
  if (to === 'RUNNING' && app.taskIds().length > 0) announceReady();
});
process.on('SIGTERM', () => void app.close());
await app.start();
await app.finished;
process.stdout.write(JSON.stringify({ event: 'measured', latencies, batchSizes }) + '\n');
memory.report();
fs.rmSync(stateDir, { recursive: true, force: true });
process.exit(0);
