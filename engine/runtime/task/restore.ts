import { ApplicationError, describeCause } from '../../errors.ts';
import type { ConnectionOptions } from '../../kafka/config.ts';
import { KafkaConsumer } from '../../kafka/consumer.ts';
import { BULK_READ, readRanges, type PartitionRange } from '../../kafka/reader.ts';
import type { Logger } from '../../observability/logger.ts';
import { changelogPartition, type TaskState, type TaskStore } from './task-state.ts';
import type { TopicPartition, TopicPartitionOffset } from '../../kafka/records.ts';

/** Restoration progress, reported about once a second and at the end. */
export interface RestoreProgress {
  tasks: string[];
  restored: number;
  total: number;
  recordsPerSec: number;
  etaSeconds: number;
  done: boolean;
}

/** The restoration totals the metrics show: records replayed, and still to replay, over every restoration. */
export class RestorationTotals {
  restored = 0;
  remaining = 0;
  private run = 0;

  count(progress: RestoreProgress): void {
    this.restored += progress.restored - this.run;
    this.run = progress.done ? 0 : progress.restored;
    this.remaining = progress.done ? 0 : progress.total - progress.restored;
  }
}

/** Where restoration stops, when not at the end of a changelog. */
export interface RestoreLimits {
  /**
   * Where changelog partitions (`topic[partition]`) stood at this instance's last commit, for
   * tasks recreated in place (a rewind): what was written to them since may yet be taken back.
   */
  upTo?: ReadonlyMap<string, number>;
  /**
   * The group's committed offsets of source-table partitions. A table over a topic is restored
   * only up to them, as Kafka Streams does, since the task processes the topic from there: the
   * records after them then update the table once, with the right old values.
   */
  committed?: (partitions: TopicPartition[]) => Promise<TopicPartitionOffset[]>;
}


/**
 * Brings the stores of these tasks up to their changelogs before the tasks process anything. A
 * store whose data can be trusted replays only the tail from the position it records; without
 * one, or with one the changelog contradicts (beyond where restoration stops, behind the
 * changelog's start), the store is wiped and restored from the beginning. Reads committed data
 * only. Each restored batch carries the position it brings the store to.
 */
export async function restoreTasks(
  states: TaskState[],
  connection: ConnectionOptions,
  log: Logger,
  onProgress: (progress: RestoreProgress) => void,
  limits: RestoreLimits = {},
): Promise<void> {
  const stores = states.flatMap((state) => state.stores.map((store) => ({ state, store })));
  if (stores.length === 0) return;
  const consumer = await KafkaConsumer.connect({ ...connection, isolationLevel: 'read_committed', properties: { ...BULK_READ, ...connection.properties } });
  const uncommitted = await KafkaConsumer.connect({ ...connection, isolationLevel: 'read_uncommitted' });
  try {
    const tables = stores.filter(({ store }) => store.spec.sourceChangelog).map(({ store }) => ({ topic: store.spec.changelogTopic, partition: store.partition }));
    const committed = new Map<string, number>();
    if (tables.length > 0 && limits.committed) {
      for (const { topic, partition, offset } of await limits.committed(tables)) committed.set(changelogPartition(topic, partition), offset);
    }
    const ranges: Array<PartitionRange & { target: TaskStore }> = [];
    for (const { state, store } of stores) {
      const { topic, partition } = { topic: store.spec.changelogTopic, partition: store.partition };
      const { low, high } = await settledWatermarks(consumer, uncommitted, topic, partition, log);
      const id = changelogPartition(topic, partition);
      let to = high;
      if (store.spec.sourceChangelog) {
        const offset = committed.get(id);
        // Nothing committed: the task reads the topic from its start, so the table starts empty.
        to = offset !== undefined && offset >= 0 ? Math.min(Math.max(offset, low), high) : low;
      } else if (limits.upTo?.has(id)) {
        to = Math.min(limits.upTo.get(id)!, high);
      }
      const from = await startingPosition(state, store, low, to, log);
      store.position = to;
      if (to > from) ranges.push({ topic, partition, from, to, target: store });
    }
    const total = ranges.reduce((n, r) => n + (r.to - r.from), 0);
    if (total > 0) await replay(consumer, ranges, states.map((s) => s.taskId), total, log, onProgress);
    // Every store records where it now stands, also where no record had to be replayed.
    for (const { store } of stores) {
      if (store.written === store.position) continue;
      await store.bytes.restore([], { topic: store.spec.changelogTopic, partition: store.partition, offset: store.position });
      store.written = store.position;
    }
  } catch (err) {
    log.error({ err: describeCause(err) }, 'restoration failed');
    throw err;
  } finally {
    await Promise.all([consumer.disconnect(), uncommitted.disconnect()]);
  }
}

/**
 * Where a store's restoration starts: the position its own data records, when that lies within
 * the changelog's `low` and where restoration stops (`to`); otherwise the store is wiped and
 * starts at `low`. Standby replicas start from here too.
 */
export async function startingPosition(state: TaskState, store: TaskStore, low: number, to: number, log: Logger): Promise<number> {
  const from = store.restoreFrom;
  if (from !== undefined && from >= low && from <= to) return from;
  if (from !== undefined) {
    log.warn({ task: state.taskId, store: store.spec.name, position: from, low, to }, 'store position does not match its changelog; restoring from the beginning');
    await state.wipe(store);
  }
  return low;
}

/** Reads the ranges into their stores, reporting progress about once a second. */
async function replay(
  consumer: KafkaConsumer,
  ranges: Array<PartitionRange & { target: TaskStore }>,
  tasks: string[],
  total: number,
  log: Logger,
  onProgress: (progress: RestoreProgress) => void,
): Promise<void> {
  const byPartition = new Map<string, TaskStore[]>();
  for (const r of ranges) {
    let stores = byPartition.get(r.topic);
    if (!stores) byPartition.set(r.topic, (stores = []));
    stores[r.partition] = r.target;
  }
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
    const perStore = new Map<TaskStore, { entries: Array<[Buffer, Buffer | null]>; next: number }>();
    // Records come in runs of one partition: find the store once per run.
    let topic: string | undefined;
    let partition = -1;
    let run: { entries: Array<[Buffer, Buffer | null]>; next: number } | undefined;
    for (const record of records) {
      if (record.partition !== partition || record.topic !== topic) {
        topic = record.topic;
        partition = record.partition;
        const target = byPartition.get(topic)![partition]!;
        run = perStore.get(target);
        if (!run) perStore.set(target, (run = { entries: [], next: 0 }));
      }
      if (record.key !== null) run!.entries.push([record.key, record.value]);
      run!.next = record.offset + 1;
    }
    const writes = [...perStore].map(([target, { entries, next }]) =>
      target.bytes.restore(entries, { topic: target.spec.changelogTopic, partition: target.partition, offset: next }).then(() => (target.written = next)),
    );
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
