/**
 * What the failover workload's phases share: instances of the failover application run with
 * `sluice run` in child processes (their log lines kept), the keys it counts, and where they are.
 */
import { partitionForKey } from '../../engine/kafka/murmur2.ts';
export { freePort } from '../../engine/local/ports.ts';
import { InstanceProcess } from '../../scripts/chaos/instance.ts';

/** One `sluice run` instance (the chaos run's process, with its JSON log lines), reached at `endpoint`. */
export class RunningInstance extends InstanceProcess {
  constructor(readonly endpoint: string, args: string[], env: Record<string, string>) {
    super(endpoint, args, env);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Changelog records its restorations replayed after `since` (ms since the epoch). */
  restoredSince(since: number): number {
    return this.log.filter((l) => l.msg === 'restoration finished' && (l.time as number) >= since).reduce((n, l) => n + (l.restored as number), 0);
  }

  /** When it logged its first assignment after `since`. */
  assignedAfter(since: number): number | undefined {
    return this.log.find((l) => l.msg === 'partitions assigned' && (l.time as number) >= since)?.time as number | undefined;
  }
}

export interface Metadata {
  instances: Array<{ endpoint: string; stores: Record<string, { running: number[]; standby: Array<{ partition: number; lag: number }> }> }>;
}

export function keyOf(i: number): string {
  return `key-${i}`;
}

/** Up to `count` keys (of `keys`) whose partition, by murmur2 as the producer placed them, is in `partitions`. */
export function sampleKeys(keys: number, partitionCount: number, partitions: Set<number>, count: number): string[] {
  const chosen: string[] = [];
  const step = Math.max(1, Math.floor(keys / (count * 4)));
  for (let i = 0; i < keys && chosen.length < count; i += step) {
    const key = keyOf(i);
    if (partitions.has(partitionForKey(Buffer.from(key), partitionCount))) chosen.push(key);
  }
  return chosen;
}


/**
 * Whether, by `metadata`, the application is steady: `instances` instances, every partition's
 * task running, and with standbys at least `partitions × min(standbys, 2)` standby copies caught
 * up (lag 0).
 */
export function steady(metadata: Metadata, instances: number, partitions: number, standbys: number): boolean {
  const stores = metadata.instances.map((i) => i.stores.counts!);
  const caughtUp = stores.flatMap((s) => s.standby).filter((s) => s.lag === 0).length;
  return metadata.instances.length === instances && stores.flatMap((s) => s.running).length === partitions && caughtUp >= partitions * Math.min(standbys, 2);
}
