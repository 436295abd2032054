/**
 * The hand-written baselines of `async-enrich` on @confluentinc/kafka-javascript (the plumbing
 * of raw-loop.ts, as raw-client.ts): consume a batch, call the enrichment service for its
 * records with at most `BENCH_CONCURRENCY` calls in flight, send each record's output as its
 * call returns, and once the batch is done mark it processed; every commit interval, wait for
 * every delivery report, then commit. At-least-once, as Sluice.
 *
 * Per-key order the simple way: a batch's records are grouped by key, each key's records called
 * one after another, and `BENCH_CONCURRENCY` workers take the keys in the order they first
 * appear. The next batch starts once every call of this one has returned, so the calls in flight
 * thin out at the end of each batch. `raw-client-sequential` is the same loop with
 * `BENCH_CONCURRENCY=1`, calling the records one at a time in offset order.
 */
import { EnrichClient } from '../workloads/async-enrich.ts';
import { settingsFromEnv, trackMemory } from './protocol.ts';
import { connectRawLoop, type Positions, type RawMessage } from './raw-loop.ts';

const settings = settingsFromEnv();
const memory = trackMemory();
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 256);
const client = EnrichClient.fromEnv();
const loop = await connectRawLoop(settings);

let running = true;
process.on('SIGTERM', () => (running = false));
const positions: Positions = new Map();
let nextCommit = Date.now() + settings.commitIntervalMs;

/** The batch's records in runs that must go one after another: per key, or (one at a time) each alone, in offset order. */
function chains(batch: RawMessage[]): RawMessage[][] {
  if (concurrency === 1) return batch.map((message) => [message]);
  const byKey = new Map<string, RawMessage[]>();
  for (const message of batch) {
    const key = message.key!.toString();
    const chain = byKey.get(key);
    if (chain === undefined) byKey.set(key, [message]);
    else chain.push(message);
  }
  return [...byKey.values()];
}

async function enrich(message: RawMessage): Promise<void> {
  const key = message.key!.toString();
  const { id } = JSON.parse(message.value!.toString()) as { id: number };
  const output = await client.enrich(key, id);
  loop.send(Buffer.from(JSON.stringify(output)), message.key, message.timestamp, message.headers);
}

/** Calls the service for every record of the batch; false when stopped before the end (the batch then stays uncommitted). */
async function processBatch(batch: RawMessage[]): Promise<boolean> {
  const work = chains(batch);
  let next = 0;
  const worker = async () => {
    while (running && next < work.length) for (const message of work[next++]!) await enrich(message);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
  return next === work.length;
}

while (running) {
  const batch = await loop.consume(5000);
  if (!(await processBatch(batch))) break;
  for (const message of batch) positions.set(message.partition, { topic: message.topic, partition: message.partition, offset: message.offset + 1 });
  if (Date.now() >= nextCommit) {
    await loop.commit(positions);
    nextCommit = Date.now() + settings.commitIntervalMs;
  }
}
await loop.commit(positions);
memory.report();
client.close();
await loop.disconnect();
process.exit(0);
