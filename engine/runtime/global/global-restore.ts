import type { ConnectionOptions } from '../../kafka/config.ts';
import { KafkaConsumer } from '../../kafka/consumer.ts';
import { BULK_READ, readRanges, type PartitionRange } from '../../kafka/reader.ts';
import type { Logger } from '../../observability/logger.ts';
import type { RecordErrors } from '../record-errors.ts';
import type { RestoreProgress } from '../task/restore.ts';
import type { GlobalState } from './global-state.ts';
import type { GlobalStore } from './global-store.ts';

/** The id restoration progress reports the global tables under, where tasks report theirs. */
export const GLOBAL_RESTORE = 'global';

export interface GlobalRestoreOptions {
  connection: ConnectionOptions;
  /** The partition count of each global topic (known once the topics were checked at start). */
  partitions: (topic: string) => number | undefined;
  errors: RecordErrors;
  log: Logger;
  onProgress: (progress: RestoreProgress) => void;
}

/**
 * Brings every global store up to the end its topic has now (its last stable offsets: only
 * committed records are read), from the offsets its checkpoint records: a restart reads only what
 * is new. A checkpoint the topic contradicts (a partition it does not have, an offset beyond its
 * end, as after the topic was deleted and created again, or before its start, records deleted
 * before they were applied) means the store cannot be trusted: it is wiped and rebuilt from the
 * beginning. Then every partition's position is the end that was read to, and a checkpoint says so.
 */
export async function restoreGlobalStores(state: GlobalState, options: GlobalRestoreOptions): Promise<void> {
  if (state.stores.length === 0) return;
  const { connection, log } = options;
  const consumer = await KafkaConsumer.connect({ ...connection, isolationLevel: 'read_committed', properties: { ...BULK_READ, ...connection.properties } });
  try {
    const ranges: PartitionRange[] = [];
    const ends = new Map<GlobalStore, number[]>();
    for (const store of state.stores) {
      const topic = store.spec.changelogTopic;
      const count = options.partitions(topic) ?? 0;
      const marks = await Promise.all([...Array(count).keys()].map((partition) => consumer.watermarks(topic, partition)));
      const doubt = contradiction(store.positions, marks);
      if (doubt !== undefined) {
        log.warn({ store: store.spec.name, topic, reason: doubt }, `global store cannot be trusted: ${doubt}; wiping it and rebuilding it from its topic`);
        await store.wipe();
      }
      marks.forEach(({ low, high }, partition) => {
        const from = store.positions.get(partition) ?? low;
        if (high > from) ranges.push({ topic, partition, from, to: high });
      });
      ends.set(store, marks.map((m) => m.high));
    }
    const total = ranges.reduce((n, r) => n + (r.to - r.from), 0);
    const started = Date.now();
    let restored = 0;
    const report = (done: boolean) => {
      const recordsPerSec = Math.round(restored / Math.max((Date.now() - started) / 1000, 0.001));
      const progress = { tasks: [GLOBAL_RESTORE], restored, total, recordsPerSec, etaSeconds: recordsPerSec > 0 ? Math.round((total - restored) / recordsPerSec) : 0, done };
      log.info(progress, done ? 'global tables restored' : 'restoring global tables');
      options.onProgress(progress);
    };
    let lastReport = started;
    await readRanges(consumer, ranges, async (records) => {
      await state.apply(records, options.errors);
      restored += records.length;
      if (Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        report(false);
      }
    });
    // Up to the end read to, also where records were skipped (aborted ones, or deleted below the log's start).
    for (const [store, highs] of ends) highs.forEach((high, partition) => store.positions.set(partition, high));
    state.checkpoint();
    report(true);
  } finally {
    await consumer.disconnect();
  }
}

/** Why a store's applied offsets cannot be those of its topic's partitions, or undefined when they can. */
function contradiction(positions: ReadonlyMap<number, number>, marks: ReadonlyArray<{ low: number; high: number }>): string | undefined {
  for (const [partition, offset] of positions) {
    const mark = marks[partition];
    if (!Number.isSafeInteger(partition) || mark === undefined) return `its checkpoint names partition ${partition}, which the topic does not have`;
    if (!Number.isSafeInteger(offset) || offset > mark.high) return `its checkpoint says partition ${partition} is applied up to ${offset}, beyond the topic's end (${mark.high})`;
    if (offset < mark.low) return `its checkpoint says partition ${partition} is applied up to ${offset}, but the topic now starts at ${mark.low} (records were deleted before they were applied)`;
  }
  return undefined;
}
