/**
 * The mutation aggregator (topologies/mutation-aggregator.ts) as a benchmark system, exactly-once
 * as it is deployed. Its topics are `BENCH_TOPIC_PREFIX` + the contract names, its database
 * `DATABASE_URL`. It measures, for mutations whose id starts with `BENCH_LATENCY_PREFIX`, the
 * time from the record's timestamp (set by the producer when it sent it) to the moment their
 * batch's database transaction committed, and the size of every batch written; both come, raw, in
 * the `measured` line. Batches of the warm-up (mutation ids starting with `BENCH_WARMUP_PREFIX`)
 * are left out.
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
const warmupPrefix = process.env.BENCH_WARMUP_PREFIX;
const latencies: number[] = [];
const batchSizes: number[] = [];
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));

const app = Application.create(
  {
    ...definition,
    // BENCH_KAFKA: extra client properties as JSON, for experiments.
    ...(process.env.BENCH_COMMIT_INTERVAL_MS ? { commitIntervalMs: Number(process.env.BENCH_COMMIT_INTERVAL_MS) } : {}),
    kafka: { ...definition.kafka, ...(process.env.BENCH_KAFKA ? (JSON.parse(process.env.BENCH_KAFKA) as Record<string, string | number>) : {}) },
    topology: (builder) =>
      mutationAggregator(builder, mutationTopics(process.env.BENCH_TOPIC_PREFIX ?? ''), {
        ...DEFAULT_SETTINGS,
        // BENCH_AGGREGATOR: settings to try, as JSON (windowMs, lingerMs, maxBatchSize, ...).
        ...(process.env.BENCH_AGGREGATOR ? (JSON.parse(process.env.BENCH_AGGREGATOR) as Partial<typeof DEFAULT_SETTINGS>) : {}),
        onCommitted: (batch) => {
          const now = Date.now();
          // The warm-up runs alone, before the measured phases: its batches hold only its mutations.
          if (warmupPrefix !== undefined && batch.records[0]!.value.mutation.id.startsWith(warmupPrefix)) return;
          batchSizes.push(batch.count);
          for (const record of batch.records) if (record.value.mutation.id.startsWith(latencyPrefix)) latencies.push(now - record.timestamp);
        },
      }),
  },
  { bootstrapServers: process.env.KAFKA_BOOTSTRAP_SERVERS, applicationId: process.env.BENCH_GROUP, logger: createLogger({}, (process.env.SLUICE_LOG_LEVEL as 'warn' | undefined) ?? 'warn'), stateDir },
);
// Ready once it runs with partitions of its own: when it joins a group that already runs, its
// tasks may come in a later rebalance than the one that made it RUNNING.
const readiness = setInterval(() => {
  if (app.lifecycle.is('RUNNING') && app.taskIds().length > 0) {
    clearInterval(readiness);
    announceReady();
  }
}, 50);
process.on('SIGTERM', () => void app.close());
await app.start();
await app.finished;
// Raw, so that the harness can merge the measurements of several instances.
const line = { event: 'measured', latencies, batchSizes };
// Written before exiting: writes to a pipe are asynchronous, and exit would cut them short.
await new Promise((resolve) => process.stdout.write(JSON.stringify(line) + '\n', resolve));
memory.report();
await new Promise((resolve) => process.stdout.write('', resolve));
fs.rmSync(stateDir, { recursive: true, force: true });
process.exit(0);
