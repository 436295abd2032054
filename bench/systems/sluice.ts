/**
 * Sluice running a benchmark workload (`BENCH_WORKLOAD`, default `stateless`) as a topology:
 *
 * - `stateless`: the same filter + mapValues as the baseline.
 * - `stateful-count`, `stateful-count-eos`, `stateful-rss`: `groupByKey().count()` with the
 *   write-back cache on (the default), its updates written to the output. `BENCH_GUARANTEE`
 *   picks at_least_once (default) or exactly_once.
 * - `restore`: the same count topology, started on an empty state directory while the store's
 *   changelog holds the records to restore; it reports the restoration's progress as
 *   `{"event":"restore",...}` lines, with the time each was seen.
 * - `store-serde`: the count with the store's values in JSON or, with `BENCH_STORE_SERDE=avro`, Avro.
 * - `iq-lookups`: the same count topology with the interactive-query server on a free port
 *   (`BENCH_HTTP=1`); once started it prints `{"event":"endpoint","url":…}`.
 * - `windowed-count`, `windowed-count-final`: `groupByKey().windowedBy(TimeWindows
 *   .ofSizeAndGrace(size, grace)).count()` on the records' timestamps, with the write-back cache
 *   on (one update per window per commit) or, with `BENCH_WINDOW_EMIT=final`, suppressed until
 *   each window closes; written with the windowed key format `to` gives Windowed keys, and the
 *   count as JSON (its decimal text).
 * - `join-stream-table`: orders (`BENCH_INPUT`) joined with a table of customers read from
 *   `BENCH_INPUT2` (`builder.table(...)`, `stream.join(table, ...)`), each order written with its
 *   customer's name and tier.
 * - `join-stream-stream`: orders (`BENCH_INPUT`) joined with payments (`BENCH_INPUT2`) of the same
 *   key at most `BENCH_JOIN_WINDOW_MS` apart (`JoinWindows.ofTimeDifferenceWithNoGrace`), each
 *   pair written as one record.
 * - `async-enrich`: `mapValuesAsync` calling the enrichment service (`BENCH_SERVICE`) for each
 *   record, with `concurrency` `BENCH_CONCURRENCY` and the default per-key ordering, each record
 *   written with its key's enrichment.
 *
 * Stateful runs keep their state in a fresh temporary directory, removed on exit.
 *
 * `BENCH_THREADS=n` runs the instance as n stream threads (`numStreamThreads`): n processes that
 * each run this script again as one thread, behind this one; each prints its own `ready`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Application } from '../../engine/runtime/application.ts';
import { launch } from '../../engine/runtime/launch.ts';
import { streamThreadRole } from '../../engine/runtime/threads/thread-role.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { createLogger } from '../../engine/observability/logger.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import type { StreamsBuilder } from '../../engine/dsl/builder.ts';
import { JoinWindows, Suppressed, TimeWindows } from '../../engine/index.ts';
import { enrich, keep, type StatelessEvent } from '../workloads/stateless.ts';
import { EnrichClient } from '../workloads/async-enrich.ts';
import { announceReady, settingsFromEnv, trackMemory } from './protocol.ts';

const settings = settingsFromEnv();
const memory = trackMemory();
const workload = process.env.BENCH_WORKLOAD ?? 'stateless';
const asyncEnrich = workload === 'async-enrich';
const stateful = workload !== 'stateless' && !asyncEnrich;
/** `BENCH_STORE_SERDE=avro`: the count store keeps its values in Avro instead of JSON. */
const avroStore = process.env.BENCH_STORE_SERDE === 'avro';

const windowed = workload.startsWith('windowed-count');
const windowSizeMs = Number(process.env.BENCH_WINDOW_SIZE_MS ?? 60_000);
const windowGraceMs = Number(process.env.BENCH_WINDOW_GRACE_MS ?? 10_000);
const finalOnly = process.env.BENCH_WINDOW_EMIT === 'final';

const joins = workload === 'join-stream-table' || workload === 'join-stream-stream';
const joinWindowMs = Number(process.env.BENCH_JOIN_WINDOW_MS ?? 10_000);

/** The records of the join workloads (bench/workloads/joins.ts), as JSON values. */
interface Order {
  orderId: number;
  amount: number;
  pad: string;
}
interface Customer {
  name: string;
  tier: string;
}
interface Payment {
  paymentId: number;
  amount: number;
  pad: string;
}

function secondInput(): string {
  if (!settings.input2) throw new Error(`${workload} joins two inputs: BENCH_INPUT2 is not set`);
  return settings.input2;
}

/** Each order with its customer's name and tier, from a table of the customers topic. */
function streamTableJoin(builder: StreamsBuilder): void {
  const customers = builder.table<string, Customer>(secondInput(), { name: 'customers' });
  builder
    .stream<string, Order>(settings.input)
    // The fields named rather than spread (`{ ...order, customer, tier }`): on Node 20 the spread
    // takes V8's slow path and costs about 1.6 µs a record, a sixth of all a record costs here.
    .join(customers, (order, customer) => ({ orderId: order.orderId, amount: order.amount, pad: order.pad, customer: customer.name, tier: customer.tier }), { name: 'enrich' })
    .to(settings.output);
}

/** Counts per key and tumbling window; every update (cached per commit), or each window's final count once it closes. */
function windowedCount(builder: StreamsBuilder): void {
  const counts = builder
    .stream<string, Buffer>(settings.input)
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeAndGrace(windowSizeMs, windowGraceMs))
    .count({ name: 'counts' });
  (finalOnly ? counts.suppress(Suppressed.untilWindowCloses()) : counts).toStream().to(settings.output, { value: Serdes.json() });
}

/** Each order with each payment of its key at most the window apart, either way (no grace). */
function streamStreamJoin(builder: StreamsBuilder): void {
  const payments = builder.stream<string, Payment>(secondInput());
  builder
    .stream<string, Order>(settings.input)
    .join(
      payments,
      (order, payment) => ({ orderId: order.orderId, paymentId: payment.paymentId, amount: order.amount, paid: payment.amount }),
      JoinWindows.ofTimeDifferenceWithNoGrace(joinWindowMs),
      { name: 'pay' },
    )
    .to(settings.output);
}

/** Each record enriched by a call to the service, `concurrency` calls in flight per task. */
function enrichByService(builder: StreamsBuilder): void {
  const client = EnrichClient.fromEnv();
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 256);
  builder
    .stream<string, { id: number }>(settings.input)
    .mapValuesAsync((value, key, { signal }) => client.enrich(key, value.id, signal), { name: 'enrich', concurrency })
    .to(settings.output);
}

const topology = asyncEnrich
  ? enrichByService
  : windowed
  ? windowedCount
  : workload === 'join-stream-table'
  ? streamTableJoin
  : workload === 'join-stream-stream'
  ? streamStreamJoin
  : stateful
  ? (builder: StreamsBuilder) =>
      builder
        .stream<string, Buffer>(settings.input)
        .groupByKey()
        .count({ name: 'counts', ...(avroStore ? { value: Serdes.avro<number>({ schema: 'long' }) } : {}) })
        .toStream()
        .to(settings.output, { value: Serdes.json() })
  : (builder: StreamsBuilder) =>
      builder
        .stream<Buffer, StatelessEvent>(settings.input)
        .filter((_, event) => keep(event))
        .mapValues(enrich)
        .to(settings.output);

const serveQueries = process.env.BENCH_HTTP === '1';
const stateDir = stateful ? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-')) : undefined;
const threads = Number(process.env.BENCH_THREADS ?? 1);
const app = launch(
  defineApplication({
    applicationId: settings.group,
    keySerde: stateful || asyncEnrich ? Serdes.string() : Serdes.bytes(),
    valueSerde: stateful && !joins ? Serdes.bytes() : Serdes.json(),
    commitIntervalMs: settings.commitIntervalMs,
    guarantee: process.env.BENCH_GUARANTEE === 'exactly_once' ? 'exactly_once' : 'at_least_once',
    numStreamThreads: threads,
    topology,
  }),
  {
    bootstrapServers: settings.bootstrapServers,
    logger: createLogger({}, 'warn'),
    stateDir,
    ...(serveQueries ? { http: { port: 0 } } : {}),
    onRestoreProgress: (progress) =>
      process.stdout.write(JSON.stringify({ event: 'restore', ...progress, atMs: performance.now(), rssMb: Math.round(process.memoryUsage().rss / 1048576) }) + '\n'),
  },
);
// Ready when the instance owns partitions; with stream threads, when every thread runs (each
// then has its share: a thread runs once it has joined the group), told by this process alone.
if (app instanceof Application) {
  if (!streamThreadRole()) {
    app.lifecycle.onChange((to) => {
      if (to === 'RUNNING' && app.taskIds().length > 0) announceReady();
    });
  }
} else {
  const threaded = app;
  const ready = setInterval(() => {
    if (threaded.state !== 'RUNNING') return;
    clearInterval(ready);
    announceReady();
  }, 10);
}
process.on('SIGTERM', () => void app.close());
process.stdout.write(JSON.stringify({ event: 'starting', atMs: performance.now() }) + '\n');
await app.start();
if (serveQueries) process.stdout.write(JSON.stringify({ event: 'endpoint', url: app.endpoint }) + '\n');
await app.finished;
memory.report();
if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
process.exit(0);
