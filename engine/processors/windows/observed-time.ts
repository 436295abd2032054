import type { ProcessorMetadata } from '../processor.ts';

/**
 * An observed stream time, kept in the task's committed metadata so that a restarted or moved
 * task goes on from it. Windowed operators keep two, as Kafka Streams does, both named after the
 * operator's store (names the user gave, stable across topology changes): `observed:<store>`,
 * the largest timestamp of the records that reached the operator, which decides lateness; and
 * `written:<store>`, the largest window time written to its store (a window's start, a session's
 * end), which decides which windows the store still holds (retention drops segments by it).
 */
export class ObservedTime {
  private readonly metadata: ProcessorMetadata;
  private readonly key: string;
  private time: number;

  /** `what`: `observed` (records' timestamps) or `written` (window times written to the store); `store`: the operator's store. */
  constructor(metadata: ProcessorMetadata, what: 'observed' | 'written', store: string) {
    this.metadata = metadata;
    this.key = `${what}:${store}`;
    this.time = metadata.get(this.key) ?? Number.NEGATIVE_INFINITY;
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
