import { ApplicationError, describeCause } from '../errors.ts';
import type { ConnectionOptions } from '../kafka/config.ts';
import { KafkaConsumer } from '../kafka/consumer.ts';
import { BULK_READ, readRanges, type PartitionRange } from '../kafka/reader.ts';
import type { Logger } from '../observability/logger.ts';
import type { TaskState, TaskStore } from './task-state.ts';

/** Restoration progress, reported about once a second and at the end. */
export interface RestoreProgress {
  tasks: string[];
  restored: number;
  total: number;
  recordsPerSec: number;
  etaSeconds: number;
  done: boolean;
}

/**
 * Brings the stores of these tasks up to the end of their changelogs before the tasks process
 * anything. A store with a usable checkpoint replays only the tail; without one, or with one
 * the changelog contradicts (ahead of its end, behind its start), the store is wiped and
 * restored from the beginning. Reads committed data only.
 */
export async function restoreTasks(
  states: TaskState[],
  connection: ConnectionOptions,
  log: Logger,
  onProgress: (progress: RestoreProgress) => void,
): Promise<void> {
  const stores = states.flatMap((state) => state.stores.map((store) => ({ state, store })));
  if (stores.length === 0) return;
  const consumer = await KafkaConsumer.connect({ ...connection, isolationLevel: 'read_committed', properties: { ...BULK_READ, ...connection.properties } });
  const uncommitted = await KafkaConsumer.connect({ ...connection, isolationLevel: 'read_uncommitted' });
  try {
    const ranges: Array<PartitionRange & { target: TaskStore }> = [];
    for (const { state, store } of stores) {
      const { topic, partition } = { topic: store.spec.changelogTopic, partition: store.partition };
      const { low, high } = await settledWatermarks(consumer, uncommitted, topic, partition, log);
      let from = store.checkpointed;
      if (from === undefined || from < low || from > high) {
        if (from !== undefined) log.warn({ task: state.taskId, store: store.spec.name, checkpoint: from, low, high }, 'checkpoint does not match the changelog; restoring from the beginning');
        await state.wipe(store);
        from = low;
      }
      store.position = high;
      if (high > from) ranges.push({ topic, partition, from, to: high, target: store });
    }
    const total = ranges.reduce((n, r) => n + (r.to - r.from), 0);
    if (total === 0) return;
    const byPartition = new Map<string, TaskStore[]>();
    for (const r of ranges) {
      let stores = byPartition.get(r.topic);
      if (!stores) byPartition.set(r.topic, (stores = []));
      stores[r.partition] = r.target;
    }
    const tasks = states.map((s) => s.taskId);
    const started = Date.now();
    let restored = 0;
    let lastReport = started;
    const report = (done: boolean) => {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      const recordsPerSec = Math.round(restored / seconds);
      const progress = { tasks, restored, total, recordsPerSec, etaSeconds: recordsPerSec > 0 ? Math.round((total - restored) / recordsPerSec) : 0, done };
      log.info(progress, done ? 'restoration finished' : 'restoring');
      onProgress(progress);
    };
    report(false);
    // The handler builds the LevelDB batches synchronously and keeps nothing of the records while
    // they are written (an async handler's frame would hold them, and they would be promoted).
    await readRanges(consumer, ranges, (records) => {
      const perStore = new Map<TaskStore, Array<[Buffer, Buffer | null]>>();
      // Records come in runs of one partition: find the store once per run.
      let topic: string | undefined;
      let partition = -1;
      let entries: Array<[Buffer, Buffer | null]> = [];
      for (const record of records) {
        if (record.partition !== partition || record.topic !== topic) {
          topic = record.topic;
          partition = record.partition;
          const target = byPartition.get(topic)![partition]!;
          let found = perStore.get(target);
          if (!found) perStore.set(target, (found = []));
          entries = found;
        }
        if (record.key !== null) entries.push([record.key, record.value]);
      }
      const writes = [...perStore].map(([target, stored]) => target.bytes.restore(stored));
      const count = records.length;
      return Promise.all(writes).then(() => {
        restored += count;
        if (Date.now() - lastReport >= 1000) {
          lastReport = Date.now();
          report(false);
        }
      });
    });
    report(true);
  } catch (err) {
    log.error({ err: describeCause(err) }, 'restoration failed');
    throw err;
  } finally {
    await Promise.all([consumer.disconnect(), uncommitted.disconnect()]);
  }
}

/** How long restoration waits for a transaction left open on a changelog to be settled. */
const SETTLE_TIMEOUT_MS = 120_000;

/**
 * The changelog's start and last stable offset, once no transaction is open on it. A
 * transaction left open by a killed owner holds the last stable offset back, and committed
 * records of a later owner may sit behind it: restoring only up to it would lose them (and a
 * checkpoint beyond it would look invalid). The broker aborts such a transaction when it times
 * out, so this waits for that.
 */
async function settledWatermarks(
  committed: KafkaConsumer,
  uncommitted: KafkaConsumer,
  topic: string,
  partition: number,
  log: Logger,
): Promise<{ low: number; high: number }> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let warned = false;
  for (;;) {
    const stable = await committed.watermarks(topic, partition);
    const { high } = await uncommitted.watermarks(topic, partition);
    if (stable.high >= high) return stable;
    if (Date.now() > deadline) {
      throw new ApplicationError(
        `A transaction on ${topic}[${partition}] stayed open for ${SETTLE_TIMEOUT_MS / 1000} s (last stable offset ${stable.high}, end ${high}); ` +
          'the store cannot be restored past it. Check for a producer that keeps it open.',
      );
    }
    if (!warned) log.info({ topic, partition, stable: stable.high, end: high }, 'waiting for an open transaction on the changelog to be settled before restoring');
    warned = true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
