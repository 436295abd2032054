import type { ConsumedRecord } from '../../kafka/records.ts';

/** What the queues ask of the consumer about a partition whose queue is empty. */
export interface DeliveryState {
  /**
   * Whether the broker holds records of this partition that were not delivered yet: true,
   * false, or undefined when not known (nothing fetched yet).
   */
  hasUndelivered(topic: string, partition: number): boolean | undefined;
}

/** How long a task waits for an empty input. */
export interface IdleOptions {
  /**
   * Kafka Streams' `max.task.idle.ms`: how long a task with records in some inputs waits for an
   * empty input that has nothing more on the broker either (0: not at all); -1: never wait, not
   * even for records the broker holds. Default 0.
   */
  maxTaskIdleMs: number;
  /**
   * The longest wait for an empty input whose records are known to be on the broker and not
   * delivered yet. Kafka Streams waits for them without a bound, and so should the task: going on
   * without them processes the other inputs ahead of records that come before them in time (a
   * join then misses its matches). The consumer fetches them soon, as the inputs with records
   * waiting are paused ({@link PartitionQueues.overfull}); this bound (default 30 s) is a safety
   * valve against a partition that could never be read, and its opening is reported.
   */
  undeliveredWaitMs: number;
  /**
   * The longest wait for an empty input whose state the consumer does not know yet (nothing
   * consumed from it since it was assigned). Default 1 s.
   */
  unknownWaitMs?: number;
}

/** What one drain found about waiting. */
export interface DrainOutcome {
  /** An input known to have records on the broker was waited for longer than `undeliveredWaitMs`, and the task went on without it. */
  gaveUpOn?: string;
}

/** One input's records taken from the consumer and not processed yet, oldest first. */
class RecordQueue {
  private items: ConsumedRecord[] = [];
  private head = 0;

  constructor(readonly topic: string) {}

  get empty(): boolean {
    return this.head === this.items.length;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): ConsumedRecord {
    return this.items[this.head]!;
  }

  push(record: ConsumedRecord): void {
    this.items.push(record);
  }

  shift(): ConsumedRecord {
    const record = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as ConsumedRecord;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1_024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return record;
  }
}

/**
 * The inputs of a task that reads several partitions (the two sides of a join, merged streams),
 * as Kafka Streams' partition group: records wait here per input, and the next one processed is,
 * among the inputs that have records, the one with the smallest timestamp, so that results do
 * not depend on how fetches happened to interleave. While an input is empty but its partition
 * still has records on the broker, the task waits for them (up to a safety bound); for an empty
 * input with nothing more on the broker it waits `maxTaskIdleMs`. An input holding many records
 * is reported by {@link overfull}, so that its partition's fetching pauses meanwhile: memory stays
 * bounded, and the consumer fetches the inputs the task waits for.
 */
export class PartitionQueues {
  private readonly queues = new Map<string, RecordQueue>();
  private size = 0;
  /** Since when the task has records but waits for an empty input; undefined while it does not wait. */
  private waitingSince: number | undefined;
  /** The wait in progress went past its bound and was reported. */
  private reported = false;

  constructor(topics: string[], private readonly partition: number) {
    for (const topic of topics) this.queues.set(topic, new RecordQueue(topic));
  }

  get hasRecords(): boolean {
    return this.size > 0;
  }

  /** Takes a record of one of the inputs; false for a topic the task does not read. */
  push(record: ConsumedRecord): boolean {
    const queue = this.queues.get(record.topic);
    if (queue === undefined) return false;
    queue.push(record);
    this.size++;
    return true;
  }

  /** The inputs holding at least `limit` records: their partitions' fetching may pause while the task catches up. */
  overfull(limit: number): string[] {
    const full: string[] = [];
    for (const queue of this.queues.values()) if (queue.length >= limit) full.push(queue.topic);
    return full;
  }

  /** How many records of `topic` wait here. */
  waiting(topic: string): number {
    return this.queues.get(topic)?.length ?? 0;
  }

  /** Forgets every record waiting (the task goes back to its committed positions). */
  clear(): void {
    for (const topic of this.queues.keys()) this.queues.set(topic, new RecordQueue(topic));
    this.size = 0;
    this.waitingSince = undefined;
    this.reported = false;
  }

  /**
   * Passes the waiting records to `process` in timestamp order (ties: the inputs in the order
   * the task reads them) for as long as no empty input must be waited for at `now`, at most
   * `limit` of them (records held through a wait go on a batch at a time, as consumed ones do,
   * with commits between).
   */
  drain(now: number, delivery: DeliveryState, options: IdleOptions, process: (record: ConsumedRecord) => void, limit = Number.POSITIVE_INFINITY): DrainOutcome {
    // What each empty input waits for, asked once per drain: it cannot change meanwhile.
    const waits = new Map<string, number>();
    const pending = new Set<string>();
    const waitFor = (topic: string): number => {
      let wait = waits.get(topic);
      if (wait === undefined) {
        const undelivered = options.maxTaskIdleMs < 0 ? false : delivery.hasUndelivered(topic, this.partition);
        if (options.maxTaskIdleMs < 0) wait = 0;
        else if (undelivered === false) wait = options.maxTaskIdleMs;
        else wait = Math.max(options.maxTaskIdleMs, undelivered ? options.undeliveredWaitMs : (options.unknownWaitMs ?? options.undeliveredWaitMs));
        waits.set(topic, wait);
        if (undelivered === true) pending.add(topic);
      }
      return wait;
    };
    const outcome: DrainOutcome = {};
    for (let taken = 0; this.size > 0 && taken < limit; taken++) {
      let next: RecordQueue | undefined;
      let wait = 0;
      let awaited: string | undefined;
      for (const queue of this.queues.values()) {
        if (queue.empty) {
          wait = Math.max(wait, waitFor(queue.topic));
          if (pending.has(queue.topic)) awaited = queue.topic;
        } else if (next === undefined || queue.peek().timestamp < next.peek().timestamp) {
          next = queue;
        }
      }
      if (wait > 0) {
        // Once the wait is over, the task goes on until the empty input gets records.
        this.waitingSince ??= now;
        if (now - this.waitingSince < wait) return outcome;
        if (awaited !== undefined && !this.reported) {
          this.reported = true;
          outcome.gaveUpOn = awaited;
        }
      } else {
        this.waitingSince = undefined;
        this.reported = false;
      }
      this.size--;
      process(next!.shift());
    }
    return outcome;
  }
}
