/**
 * The baseline: a batched consume → process → produce loop written directly on
 * @confluentinc/kafka-javascript, the way a careful hand-rolled consumer would be. Sends are
 * not awaited one by one; before each commit it waits for all delivery reports, so it gives
 * the same at-least-once guarantee as Sluice.
 *
 * `BENCH_WORKLOAD` picks the work: `stateless` (parse, filter, map, write JSON),
 * `stateful-count` / `stateful-rss` (a count per key in a Map per partition; at each commit it
 * writes the latest count of every key changed since the last one, then commits), or
 * `windowed-count` / `windowed-count-final` (a count per key and tumbling window, see
 * `processWindowed`). Outputs carry their input record's timestamp (a count, its latest
 * record's), for open-loop latency. The clients' settings and the commit: raw-loop.ts.
 */
import { enrich, keep, type StatelessEvent } from '../workloads/stateless.ts';
import { windowedKey } from '../workloads/windowed.ts';
import { settingsFromEnv, trackMemory } from './protocol.ts';
import { connectRawLoop, type Positions, type RawMessage } from './raw-loop.ts';

const settings = settingsFromEnv();
const memory = trackMemory();
const workload = process.env.BENCH_WORKLOAD ?? 'stateless';
const windowed = workload.startsWith('windowed-count');
const windowSizeMs = Number(process.env.BENCH_WINDOW_SIZE_MS ?? 60_000);
const windowGraceMs = Number(process.env.BENCH_WINDOW_GRACE_MS ?? 10_000);
/** `final`: each window's count once, when it closes; otherwise every changed window's count at each commit. */
const finalOnly = process.env.BENCH_WINDOW_EMIT === 'final';

/**
 * Per partition: key → count, and the keys changed since the last commit, each with the
 * timestamp of its latest record, which its output carries (as a Kafka Streams count's does).
 */
const counts = new Map<number, Map<string, number>>();
const changed = new Map<number, Map<string, number>>();

/** One key's count in one window, with the timestamp of its latest record. */
interface WindowCount {
  key: string;
  start: number;
  count: number;
  timestamp: number;
  /** Changed since the last commit (every-update only). */
  changed: boolean;
}

/**
 * Per partition, the windowed count's state: the partition's stream time (the largest
 * timestamp seen), the open windows by start, each a Map of key → count, the counts changed
 * since the last commit, and when the earliest open window closes.
 */
interface PartitionWindows {
  streamTime: number;
  open: Map<number, Map<string, WindowCount>>;
  changed: WindowCount[];
  nextClose: number;
}
const windows = new Map<number, PartitionWindows>();
let lateRecords = 0;

// A single-instance benchmark: revoked partitions simply drop their counts.
const loop = await connectRawLoop(settings, (partitions) => {
  for (const partition of partitions) {
    counts.delete(partition);
    changed.delete(partition);
    windows.delete(partition);
  }
});
const send = loop.send;

let running = true;
process.on('SIGTERM', () => (running = false));
const positions: Positions = new Map();
let nextCommit = Date.now() + settings.commitIntervalMs;

/** Writes the latest count of each key changed since the last commit. */
function emitChangedCounts(): void {
  for (const [partition, keys] of changed) {
    const table = counts.get(partition)!;
    for (const [key, timestamp] of keys) send(Buffer.from(String(table.get(key))), Buffer.from(key), timestamp);
    keys.clear();
  }
}

/** Writes the count of each (key, window) changed since the last commit, windows closed since included. */
function emitChangedWindows(): void {
  for (const state of windows.values()) {
    for (const entry of state.changed) {
      entry.changed = false;
      send(Buffer.from(String(entry.count)), windowedKey(entry.key, entry.start), entry.timestamp);
    }
    state.changed = [];
  }
}

async function commit(): Promise<void> {
  if (windowed) {
    if (!finalOnly) emitChangedWindows();
  } else if (workload !== 'stateless') emitChangedCounts();
  await loop.commit(positions);
  nextCommit = Date.now() + settings.commitIntervalMs;
}

function processStateless(batch: RawMessage[]): void {
  for (const message of batch) {
    const event = JSON.parse(message.value!.toString()) as StatelessEvent;
    if (keep(event)) send(Buffer.from(JSON.stringify(enrich(event))), message.key, message.timestamp, message.headers);
    positions.set(message.partition, { topic: message.topic, partition: message.partition, offset: message.offset + 1 });
  }
}

function processCount(batch: RawMessage[]): void {
  for (const message of batch) {
    const { partition } = message;
    let table = counts.get(partition);
    let keys = changed.get(partition);
    if (table === undefined || keys === undefined) {
      counts.set(partition, (table = new Map()));
      changed.set(partition, (keys = new Map()));
    }
    const key = message.key!.toString();
    table.set(key, (table.get(key) ?? 0) + 1);
    keys.set(key, message.timestamp ?? Date.now());
    positions.set(partition, { topic: message.topic, partition, offset: message.offset + 1 });
  }
}

/**
 * The windowed count: each record counts in the window holding its timestamp, unless that window
 * has closed (its end plus the grace period at or before the partition's stream time, as Kafka
 * Streams decides it), in which case it is dropped as late. A closed window is dropped from
 * memory; final-only writes each of its counts then, every-update has written them at the commits.
 */
function processWindowed(batch: RawMessage[]): void {
  for (const message of batch) {
    const { partition } = message;
    let state = windows.get(partition);
    if (state === undefined) windows.set(partition, (state = { streamTime: -Infinity, open: new Map(), changed: [], nextClose: Infinity }));
    const timestamp = message.timestamp!;
    if (timestamp > state.streamTime) state.streamTime = timestamp;
    const start = timestamp - (timestamp % windowSizeMs);
    const closes = start + windowSizeMs + windowGraceMs;
    if (closes <= state.streamTime) lateRecords++;
    else {
      let window = state.open.get(start);
      if (window === undefined) {
        state.open.set(start, (window = new Map()));
        if (closes < state.nextClose) state.nextClose = closes;
      }
      const key = message.key!.toString();
      let entry = window.get(key);
      if (entry === undefined) window.set(key, (entry = { key, start, count: 0, timestamp, changed: false }));
      entry.count++;
      if (timestamp > entry.timestamp) entry.timestamp = timestamp;
      if (!finalOnly && !entry.changed) {
        entry.changed = true;
        state.changed.push(entry);
      }
    }
    if (state.nextClose <= state.streamTime) closeWindows(state);
    positions.set(partition, { topic: message.topic, partition, offset: message.offset + 1 });
  }
}

/** Drops the windows that have closed (final-only: writing their counts first). */
function closeWindows(state: PartitionWindows): void {
  state.nextClose = Infinity;
  for (const [start, window] of state.open) {
    const closes = start + windowSizeMs + windowGraceMs;
    if (closes > state.streamTime) {
      if (closes < state.nextClose) state.nextClose = closes;
      continue;
    }
    if (finalOnly) for (const entry of window.values()) send(Buffer.from(String(entry.count)), windowedKey(entry.key, start), entry.timestamp);
    state.open.delete(start);
  }
}

while (running) {
  const batch = await loop.consume(5000);
  if (workload === 'stateless') processStateless(batch);
  else if (windowed) processWindowed(batch);
  else processCount(batch);
  if (Date.now() >= nextCommit) await commit();
}
await commit();
if (windowed) process.stdout.write(JSON.stringify({ event: 'late', dropped: lateRecords }) + '\n');
memory.report();
await loop.disconnect();
process.exit(0);
