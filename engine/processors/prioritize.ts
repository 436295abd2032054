import { InvalidRecordError } from '../errors.ts';
import { Heap } from './heap.ts';
import { holdRecord, keyIdentity, sendingAs, writeOf, type HeldRecord } from './held-records.ts';
import type { ProcessorSupplier } from './processor.ts';
import { synchronous } from './synchronous.ts';

/**
 * A record's rank: higher goes first. `ageMs` is how old the record is (now minus its
 * timestamp); `now` is the machine's clock, for rankings by a time inside the value.
 */
export type PriorityFunction<K = unknown, V = unknown> = (key: K, value: V, ageMs: number, now: number) => number;

export interface PrioritizeSettings {
  /** The store of held records, by arrival sequence number (declared with `preload`). */
  store: string;
  maxBuffered: number;
  windowMs: number;
  priority: PriorityFunction;
}

/** A held record in memory: the stored record, its sequence number and its current rank. */
interface Held {
  seq: number;
  keyId: string;
  record: HeldRecord;
  rank: number;
}

/** Higher rank first; equal ranks in arrival order. */
const before = (a: Held, b: Held) => a.rank > b.rank || (a.rank === b.rank && a.seq < b.seq);

/**
 * `prioritize`: holds records and sends them on best first. Every `windowMs` (wall-clock, so a
 * quiet stream flushes too) it sends everything it holds, ranked; when it holds more than
 * `maxBuffered`, it sends the best until it is back at the bound. Only the oldest held record of
 * each key can go, so records of one key never overtake each other.
 *
 * The held records live in the store (keyed by an arrival sequence number); the per-key queues
 * and the heap of eligible records are rebuilt from the store's restored entries when a task
 * starts, so a restart or a moved task sends every record exactly as if it had not stopped.
 */
export function prioritize(settings: PrioritizeSettings): ProcessorSupplier {
  const { maxBuffered, windowMs, priority } = settings;
  return ({ stores, next, context, restoreContext, schedule, wallClock, name }) => {
    const store = stores.get<number, HeldRecord>(settings.store);
    const sendAs = sendingAs(context, restoreContext);
    /** Per key, its held records, oldest first; the first of each is eligible. */
    const queues = new Map<string, Held[]>();
    const eligible = new Heap<Held>(before);
    let held = 0;
    let nextSeq = 0;

    const rank = (record: HeldRecord, now: number): number => {
      const value = synchronous(priority(record.key, record.value, now - record.timestamp, now), name, 'priority function');
      if (typeof value !== 'number' || Number.isNaN(value)) {
        throw new InvalidRecordError(name, `the priority function returned ${JSON.stringify(value)}, not a number`);
      }
      return value;
    };

    /** `known`: the record's rank, when it was just computed. */
    const hold = (seq: number, record: HeldRecord, now: number, known?: number) => {
      const entry: Held = { seq, keyId: keyIdentity(record.key), record, rank: 0 };
      const queue = queues.get(entry.keyId);
      held++;
      if (queue) {
        queue.push(entry);
        return;
      }
      queues.set(entry.keyId, [entry]);
      entry.rank = known ?? rank(record, now);
      eligible.push(entry);
    };

    /** Sends the best eligible record; the next record of its key becomes eligible. */
    const release = (now: number) => {
      const entry = eligible.pop()!;
      const queue = queues.get(entry.keyId)!;
      queue.shift();
      if (queue.length === 0) queues.delete(entry.keyId);
      else {
        const following = queue[0]!;
        following.rank = rank(following.record, now);
        eligible.push(following);
      }
      held--;
      const { record } = entry;
      store.delete(entry.seq, writeOf(record));
      sendAs(record, () => next(record.key, record.value));
    };

    const restored = stores.restored<number, HeldRecord>(settings.store);
    const startedAt = wallClock();
    for (const [seq, record] of restored) {
      hold(seq, record, startedAt);
      nextSeq = Math.max(nextSeq, seq + 1);
    }

    schedule(windowMs, 'wall-clock', (now) => {
      if (held === 0) return;
      // Records age while they wait: rank the eligible ones again before the window's flush.
      const heads = eligible.clear();
      for (const head of heads) head.rank = rank(head.record, now);
      eligible.reset(heads);
      while (held > 0) release(now);
    });

    return (key, value) => {
      const now = wallClock();
      const record = holdRecord(key, value, context, now);
      // Rank before storing: a priority function that throws fails this record, not a later flush.
      const known = rank(record, now);
      const seq = nextSeq++;
      store.put(seq, record, writeOf(record));
      hold(seq, record, now, known);
      while (held > maxBuffered) release(now);
    };
  };
}
