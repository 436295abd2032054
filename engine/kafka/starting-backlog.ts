import type { TopicPartition } from './records.ts';

/**
 * Whether a partition the consumer has delivered nothing from since it was assigned had records
 * waiting then: its starting offset (the group's committed one, else the reset policy's end)
 * before its end offset. Fetches say how far a partition goes only once they bring some of it,
 * and with many partitions the first fetches may bring others for seconds; a task that waits for
 * this partition must know meanwhile that records are coming. Asked of the broker once per
 * assignment, in the background: undefined until the answer is in.
 */
export class StartingBacklog {
  private readonly known = new Map<string, boolean>();
  private readonly asking = new Set<string>();

  constructor(private readonly probe: (topic: string, partition: number) => Promise<boolean>) {}

  get(topic: string, partition: number): boolean | undefined {
    const id = `${topic}\u0000${partition}`;
    const known = this.known.get(id);
    if (known !== undefined || this.asking.has(id)) return known;
    this.asking.add(id);
    this.probe(topic, partition).then(
      (waiting) => {
        if (this.asking.delete(id)) this.known.set(id, waiting);
      },
      () => this.asking.delete(id),
    );
    return undefined;
  }

  /** Forgets these partitions (revoked: a new assignment asks again). */
  forget(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      const id = `${topic}\u0000${partition}`;
      this.known.delete(id);
      this.asking.delete(id);
    }
  }
}
