import type { ProcessorMetadata } from '../processor.ts';

/**
 * An observed stream time, kept in the task's committed metadata under `key` so that a
 * restarted or moved task goes on from it. Windowed operators keep two, as Kafka Streams does:
 * the largest timestamp of the records that reached the operator, which decides lateness (under
 * the operator's name), and the largest window time written to its store (a window's start, a
 * session's end), which decides which windows the store still holds (under the store's name:
 * its retention drops segments by it).
 */
export class ObservedTime {
  private readonly metadata: ProcessorMetadata;
  private readonly key: string;
  private time: number;

  constructor(metadata: ProcessorMetadata, key: string) {
    this.metadata = metadata;
    this.key = key;
    this.time = metadata.get(key) ?? Number.NEGATIVE_INFINITY;
  }

  get now(): number {
    return this.time;
  }

  /** Moves on to `timestamp` if it is later; returns the observed time. */
  advance(timestamp: number): number {
    if (timestamp > this.time) {
      this.time = timestamp;
      this.metadata.set(this.key, timestamp);
    }
    return this.time;
  }
}
