import { describeCause } from '../errors.ts';
import type { ConnectionOptions } from '../kafka/config.ts';
import { KafkaConsumer } from '../kafka/consumer.ts';
import { readRanges, type PartitionRange } from '../kafka/reader.ts';
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
  const consumer = await KafkaConsumer.connect({ ...connection, isolationLevel: 'read_committed' });
  try {
    const ranges: Array<PartitionRange & { target: TaskStore }> = [];
    for (const { state, store } of stores) {
      const { topic, partition } = { topic: store.spec.changelogTopic, partition: store.partition };
      const { low, high } = await consumer.watermarks(topic, partition);
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
    const byPartition = new Map(ranges.map((r) => [`${r.topic}[${r.partition}]`, r.target]));
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
    await readRanges(consumer, ranges, async (records) => {
      const perStore = new Map<TaskStore, Array<[Buffer, Buffer | null]>>();
      for (const record of records) {
        const target = byPartition.get(`${record.topic}[${record.partition}]`)!;
        let entries = perStore.get(target);
        if (!entries) perStore.set(target, (entries = []));
        if (record.key !== null) entries.push([record.key, record.value]);
      }
      await Promise.all([...perStore].map(([target, entries]) => target.bytes.restore(entries)));
      restored += records.length;
      if (Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        report(false);
      }
    });
    report(true);
  } catch (err) {
    log.error({ err: describeCause(err) }, 'restoration failed');
    throw err;
  } finally {
    await consumer.disconnect();
  }
}
