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
   * The longest wait for an empty input whose records are on the broker but not delivered (or
   * whose state is unknown): a fetch normally brings them within the consumer's fetch wait, so
   * past this the task goes on rather than stall (a partition paused or an offset the consumer
   * cannot see past).
   */
  undeliveredWaitMs: number;
}

/** One input's records taken from the consumer and not processed yet, oldest first. */
class RecordQueue {
  private items: ConsumedRecord[] = [];
  private head = 0;

  constructor(readonly topic: string) {}

  get empty(): boolean {
    return this.head === this.items.length;
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
 * still has records on the broker, the task waits for them (up to `undeliveredWaitMs`); for an
 * empty input with nothing more on the broker it waits `maxTaskIdleMs`.
 */
export class PartitionQueues {
  private readonly queues = new Map<string, RecordQueue>();
  private size = 0;
  /** Since when the task has records but waits for an empty input; undefined while it does not wait. */
  private waitingSince: number | undefined;

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

  /** Forgets every record waiting (the task goes back to its committed positions). */
  clear(): void {
    for (const topic of this.queues.keys()) this.queues.set(topic, new RecordQueue(topic));
    this.size = 0;
    this.waitingSince = undefined;
  }

  /**
   * Passes the waiting records to `process` in timestamp order (ties: the inputs in the order
   * the task reads them) for as long as no empty input must be waited for at `now`, at most
   * `limit` of them (records held through a wait go on a batch at a time, as consumed ones do,
   * with commits between).
   */
  drain(now: number, delivery: DeliveryState, options: IdleOptions, process: (record: ConsumedRecord) => void, limit = Number.POSITIVE_INFINITY): void {
    // What each empty input waits for, asked once per drain: it cannot change meanwhile.
    const waits = new Map<string, number>();
    const waitFor = (topic: string): number => {
      let wait = waits.get(topic);
      if (wait === undefined) {
        if (options.maxTaskIdleMs < 0) wait = 0;
        else if (delivery.hasUndelivered(topic, this.partition) === false) wait = options.maxTaskIdleMs;
        else wait = Math.max(options.maxTaskIdleMs, options.undeliveredWaitMs);
        waits.set(topic, wait);
      }
      return wait;
    };
    for (let taken = 0; this.size > 0 && taken < limit; taken++) {
      let next: RecordQueue | undefined;
      let wait = 0;
      for (const queue of this.queues.values()) {
        if (queue.empty) {
          wait = Math.max(wait, waitFor(queue.topic));
        } else if (next === undefined || queue.peek().timestamp < next.peek().timestamp) {
          next = queue;
        }
      }
      if (wait > 0) {
        // Once the wait is over, the task goes on until the empty input gets records.
        this.waitingSince ??= now;
        if (now - this.waitingSince < wait) return;
      } else {
        this.waitingSince = undefined;
      }
      this.size--;
      process(next!.shift());
    }
  }
}
