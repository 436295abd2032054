import type { TopicPartition } from '../kafka/records.ts';

/** What back-pressure asks of the tasks: which inputs hold many records, and how many one holds. */
export interface QueuedInputs {
  overfullInputs(limit: number): TopicPartition[];
  /** Undefined when no task of this instance reads the partition any more; `limit` is the one given to overfullInputs. */
  waiting(topic: string, partition: number, limit: number): number | undefined;
}

/** What back-pressure asks of the consumer. */
export interface PausableSource {
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
}

/**
 * Pauses fetching the input partitions of tasks of several inputs that hold many records not
 * processed yet (Kafka Streams' `buffered.records.per.partition`), or whose async operators hold
 * four times their concurrency, and resumes each once its task has taken it down to half. A task that waits for one input keeps the others' records; without
 * the pause the consumer would go on fetching them (its memory growing without bound) and might
 * deliver the awaited input only after all of them.
 */
export class InputBackpressure {
  private readonly paused = new Map<string, TopicPartition>();

  constructor(
    private readonly source: PausableSource,
    private readonly limit = 1_000,
  ) {}

  /** True while some input is paused. */
  get pausing(): boolean {
    return this.paused.size > 0;
  }

  /** Pauses the inputs now over the limit, resumes those back under half of it. */
  update(inputs: QueuedInputs): void {
    const pause: TopicPartition[] = [];
    for (const tp of inputs.overfullInputs(this.limit)) {
      const id = `${tp.topic}\u0000${tp.partition}`;
      if (this.paused.has(id)) continue;
      this.paused.set(id, tp);
      pause.push({ topic: tp.topic, partition: tp.partition });
    }
    if (pause.length > 0) this.source.pause(pause);
    if (this.paused.size === pause.length) return;
    const resume: TopicPartition[] = [];
    for (const [id, tp] of this.paused) {
      const waiting = inputs.waiting(tp.topic, tp.partition, this.limit);
      // Resumed too when no task reads it any more: were it assigned here again, it must not stay paused.
      if (waiting === undefined || waiting < this.limit / 2) {
        this.paused.delete(id);
        resume.push(tp);
      }
    }
    if (resume.length === 0) return;
    try {
      this.source.resume(resume);
    } catch {
      // One of them is no longer assigned: resume them one by one.
      for (const tp of resume) {
        try {
          this.source.resume([tp]);
        } catch {
          // Not assigned here: nothing is paused.
        }
      }
    }
  }
}
