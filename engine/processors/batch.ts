import { InvalidRecordError } from '../errors.ts';
import type { RecordHeader } from '../kafka/records.ts';
import { holdRecord, sendingAs, writeOf, type HeldRecord } from './held-records.ts';
import type { ProcessorSupplier } from './processor.ts';
import { stringifyJson } from '../serde/stack-safe-json.ts';
import { synchronous } from './synchronous.ts';

/** One record of a batch, as it came. */
export interface BatchedRecord<K = unknown, V = unknown> {
  key: K;
  value: V;
  /** The record's own timestamp (the batch record carries the latest of them). */
  timestamp: number;
}

/**
 * What `batch` sends on: one record per batch, keyed by its first record's key (so a sink
 * places it where that record's key lives: the batch stays with its partition's data).
 */
export interface Batch<K = unknown, V = unknown> {
  /** How many records it holds. */
  count: number;
  /**
   * The sum of the records' value sizes, serialized (Buffers and strings as they are, the rest as
   * UTF-8 JSON); measured only when `maxBytes` is set, else 0.
   */
  bytes: number;
  /**
   * What closed it: `maxSize` records, `maxBytes` reached (or the next record would pass it),
   * `lingerMs` passed, or a commit (with `closeOnCommit`).
   */
  reason: 'size' | 'bytes' | 'linger' | 'commit';
  /** In the order they entered: every record after the records it depends on. */
  records: Array<BatchedRecord<K, V>>;
}

/** How `batch` orders records that depend on others. */
export interface DependencySettings {
  /** The store of released ids (with a TTL): an id there has gone out in a batch. */
  store: string;
  id: (value: unknown, key: unknown) => string;
  dependsOn: (value: unknown, key: unknown) => readonly string[];
  /** How long (wall-clock) a record waits for the records it depends on. */
  timeoutMs: number;
}

export interface BatchSettings {
  /** The store of pending records, by arrival sequence number (declared with `preload`). */
  store: string;
  maxSize: number;
  maxBytes: number;
  lingerMs: number;
  /** Close the open batch at every commit, so that its records need not be logged. */
  closeOnCommit: boolean;
  dependencies?: DependencySettings;
}

export interface BatchRoutes {
  batches: string;
  /** Records whose dependencies did not come in time; undefined: they are batched anyway. */
  missing: string | undefined;
}

/** The header that names, on a record routed for missing dependencies, the ids it waited for. */
export const MISSING_DEPENDENCIES_HEADER = 'sluice.missing.dependencies';

/** A pending record in memory. */
interface Pending {
  seq: number;
  record: HeldRecord;
  id: string | undefined;
  /** The dependencies not yet released. */
  missing: Set<string>;
  bytes: number;
}

/**
 * `batch`: groups records into batches of at most `maxSize` records and about `maxBytes`,
 * closing the open batch when it is full or `lingerMs` (wall-clock) after its first record.
 * With dependencies, a record enters a batch only after every record it depends on: earlier in
 * the same batch or in an earlier one. A record whose dependencies have not been released within
 * `timeoutMs` goes to the `missing` route (or, without one, into a batch anyway); records that
 * depend on it then time out in turn.
 *
 * Pending records, the open batch's included, live in the store until their batch goes out;
 * released ids live in the dependency store (with a TTL) so that a dependent arriving after its
 * dependency went out passes at once. After a restart the pending records are replayed in
 * arrival order at the first record or punctuation; the open batch may then form differently,
 * which is harmless, as nothing of it had gone out.
 */
export function batch(settings: BatchSettings, routes: BatchRoutes): ProcessorSupplier {
  const { maxSize, maxBytes, lingerMs, dependencies } = settings;
  return ({ stores, children, context, restoreContext, schedule, onCommit, log, wallClock, name }) => {
    const pending = stores.get<number, HeldRecord>(settings.store);
    const released = dependencies ? stores.get<string, number>(dependencies.store) : undefined;
    const sendBatch = children.get(routes.batches)!;
    const sendMissing = routes.missing === undefined ? undefined : children.get(routes.missing)!;
    const sendAs = sendingAs(context, restoreContext);

    let open: Pending[] = [];
    let openBytes = 0;
    let openedAt = 0;
    const openIds = new Set<string>();
    /** Records waiting for dependencies, in arrival order (a Map iterates in insertion order). */
    const waiting = new Map<number, Pending>();
    /** For each id not yet released, the records waiting for it. */
    const waitingFor = new Map<string, Set<Pending>>();
    let nextSeq = 0;

    // Sizes cost a JSON encoding of every value: only measured when a byte limit needs them.
    const measure = Number.isFinite(settings.maxBytes);
    const sizeOf = (value: unknown) => (measure ? valueBytes(value) : 0);
    const describe = (record: HeldRecord, seq: number): Pending => {
      const entry: Pending = { seq, record, id: undefined, missing: new Set(), bytes: sizeOf(record.value) };
      if (!dependencies) return entry;
      const id = synchronous(dependencies.id(record.value, record.key), name, 'id function');
      if (typeof id !== 'string' || id === '') throw new InvalidRecordError(name, `the record has no id (the id function returned ${JSON.stringify(id)})`);
      const needs = synchronous(dependencies.dependsOn(record.value, record.key), name, 'dependsOn function') ?? [];
      if (!Array.isArray(needs) || needs.some((d) => typeof d !== 'string')) {
        throw new InvalidRecordError(name, `dependsOn must return an array of ids; it returned ${JSON.stringify(needs)}`);
      }
      entry.id = id;
      for (const need of needs) if (!openIds.has(need) && released!.get(need) === undefined) entry.missing.add(need);
      return entry;
    };

    const close = (reason: Batch['reason']) => {
      if (open.length === 0) return;
      const members = open;
      open = [];
      const bytes = openBytes;
      openBytes = 0;
      openIds.clear();
      let latest = members[0]!.record.timestamp;
      for (const { seq, record, id } of members) {
        if (record.timestamp > latest) latest = record.timestamp;
        pending.delete(seq, writeOf(record));
        if (id !== undefined) released!.put(id, record.timestamp, writeOf(record));
      }
      const first = members[0]!.record;
      const value: Batch = { count: members.length, bytes, reason, records: members.map(({ record }) => ({ key: record.key, value: record.value, timestamp: record.timestamp })) };
      sendAs({ timestamp: latest, headers: first.headers }, () => sendBatch(first.key, value));
    };

    /** Puts one record into the open batch, closing the batch when it is full. */
    const place = (entry: Pending, at: number) => {
      if (open.length > 0 && openBytes + entry.bytes > maxBytes) close('bytes');
      if (open.length === 0) openedAt = at;
      open.push(entry);
      openBytes += entry.bytes;
      if (entry.id !== undefined) openIds.add(entry.id);
      if (open.length >= maxSize) close('size');
      else if (openBytes >= maxBytes) close('bytes');
    };

    /**
     * Places ready records and, after each, the records that were waiting only for it. A work
     * list rather than recursion: a long chain of dependents must not exhaust the stack.
     */
    const admit = (ready: Pending[], at: number) => {
      for (let i = 0; i < ready.length; i++) {
        const entry = ready[i]!;
        place(entry, at);
        if (entry.id === undefined) continue;
        const blocked = waitingFor.get(entry.id);
        if (!blocked) continue;
        waitingFor.delete(entry.id);
        const unblocked: Pending[] = [];
        for (const other of blocked) {
          other.missing.delete(entry.id);
          if (other.missing.size === 0) {
            waiting.delete(other.seq);
            unblocked.push(other);
          }
        }
        unblocked.sort((a, b) => a.seq - b.seq);
        for (const other of unblocked) ready.push(other);
      }
    };

    const arrive = (entry: Pending, at: number) => {
      if (entry.missing.size === 0) {
        admit([entry], at);
        return;
      }
      waiting.set(entry.seq, entry);
      for (const need of entry.missing) {
        let blocked = waitingFor.get(need);
        if (!blocked) waitingFor.set(need, (blocked = new Set()));
        blocked.add(entry);
      }
    };

    const giveUp = (entry: Pending, now: number) => {
      waiting.delete(entry.seq);
      for (const need of entry.missing) waitingFor.get(need)?.delete(entry);
      const { record } = entry;
      const missing = [...entry.missing];
      if (sendMissing) {
        pending.delete(entry.seq, writeOf(record));
        const headers: RecordHeader[] = [...(record.headers ?? []), { [MISSING_DEPENDENCIES_HEADER]: missing.join(',') }];
        sendAs({ timestamp: record.timestamp, headers }, () => sendMissing(record.key, record.value));
        return;
      }
      log.warn({ id: entry.id, missing }, 'batch: dependencies did not arrive in time; batching the record without them');
      entry.missing.clear();
      admit([entry], now);
    };

    // Restored records are replayed at the first record or punctuation: replaying may close
    // batches, and nothing can be sent while the task is being built.
    let restored: Array<[number, HeldRecord]> | undefined = stores.restored<number, HeldRecord>(settings.store);
    for (const [seq] of restored) nextSeq = Math.max(nextSeq, seq + 1);
    if (restored.length === 0) restored = undefined;
    const replay = () => {
      const records = restored!;
      restored = undefined;
      // The time they arrived stands in for when they entered the open batch: they linger no longer for the restart.
      for (const [seq, record] of records) {
        let entry: Pending;
        try {
          entry = describe(record, seq);
        } catch (error) {
          // It was accepted when it arrived, so only changed id functions get here; the record
          // in hand must not take the blame, and the held one must not be lost.
          log.error({ err: error, seq }, 'batch: a restored record no longer has a valid id or dependencies; batching it without them');
          entry = { seq, record, id: undefined, missing: new Set(), bytes: sizeOf(record.value) };
        }
        arrive(entry, record.arrivedAt);
      }
    };

    schedule(tick(lingerMs, dependencies?.timeoutMs), 'wall-clock', (now) => {
      if (restored) replay();
      if (dependencies) {
        for (const entry of waiting.values()) {
          // Arrival order is wall-clock order, so the first that has time left ends the scan.
          if (now - entry.record.arrivedAt < dependencies.timeoutMs) break;
          giveUp(entry, now);
        }
      }
      if (open.length > 0 && now - openedAt >= lingerMs) close('linger');
    });

    // Runs before the commit flushes the stores: records put and deleted since the last flush
    // pass nothing to the changelog.
    if (settings.closeOnCommit) {
      onCommit(async () => {
        if (restored) replay();
        close('commit');
      });
    }

    return (key, value) => {
      if (restored) replay();
      const now = wallClock();
      const record = holdRecord(key, value, context, now);
      // Described before it is stored: an id function that throws fails this record alone.
      const entry = describe(record, nextSeq);
      nextSeq++;
      pending.put(entry.seq, record, writeOf(record));
      arrive(entry, now);
    };
  };
}

/** A record value's size as it will be written: bytes and strings as they are, the rest as JSON. */
function valueBytes(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  return Buffer.byteLength(stringifyJson(value) ?? '', 'utf8');
}

/**
 * How often the punctuation checks the linger and the timeouts: a quarter of the shorter, so
 * neither overshoots by much, within 10 ms (the loop checks between polls anyway) and 1 s.
 */
function tick(lingerMs: number, timeoutMs: number | undefined): number {
  const shortest = Math.min(lingerMs, timeoutMs ?? Number.POSITIVE_INFINITY);
  return Math.min(1_000, Math.max(10, Math.floor(shortest / 4)));
}
