/**
 * Best of rounds: systems alternate over the rounds, and each system's best round is reported,
 * so load from elsewhere on a shared machine hurts every system alike. What "best" means is the
 * workload kind's: the fastest round, the most requests, the lowest p99.
 */
import type { RunResult, SkippedResult } from './types.ts';

/** True when `a` is a better round than `b`. */
export type Better = (a: RunResult, b: RunResult) => boolean;

/** The round that took the least time (the same records each round). */
export const fastest: Better = (a, b) => a.seconds < b.seconds;
/** The round with the highest rate (a fixed time each round). */
export const highestRate: Better = (a, b) => a.recordsPerSec > b.recordsPerSec;
/** The round with the lowest p99 latency; the fastest where latency was not measured. */
export const lowestP99: Better = (a, b) =>
  typeof a.p99Ms === 'number' && typeof b.p99Ms === 'number' ? a.p99Ms < b.p99Ms : fastest(a, b);

/** Keeps each system's best round so far, and why a system that did not run did not. */
export class BestOfRounds {
  private readonly best = new Map<string, RunResult>();
  private readonly skipped = new Map<string, string>();

  constructor(private readonly better: Better) {}

  /** A finished round: kept when it is the system's first, or better than its best. */
  offer(result: RunResult): void {
    const previous = this.best.get(result.system);
    if (!previous || this.better(result, previous)) this.best.set(result.system, result);
  }

  /** A round that stands only when the system has none: a peer's partial rate before it failed. */
  offerIfNone(result: RunResult): void {
    if (!this.best.has(result.system)) this.best.set(result.system, result);
  }

  /** The system runs no more rounds, for `reason`. */
  skip(system: string, reason: string): void {
    this.skipped.set(system, reason);
  }

  isSkipped(system: string): boolean {
    return this.skipped.has(system);
  }

  /** Each system's best round, in the order given; a system without one is listed as skipped, with the reason. */
  results(systems: string[], records: number): Array<RunResult | SkippedResult> {
    return systems.map(
      (system) =>
        this.best.get(system) ?? { system, records, seconds: null, recordsPerSec: null, skipped: true, reason: this.skipped.get(system) ?? 'no round finished' },
    );
  }
}

/**
 * Each result's throughput relative to raw-client and to kafka-streams (in as many stream
 * threads), where both ran, and to
 * the workload's bound (the most any system can do), where it has one.
 */
export function addRatios(results: Array<RunResult | SkippedResult>, bound?: number): void {
  const rate = (name: string) => results.find((r) => r.system === name)?.recordsPerSec ?? null;
  const raw = rate('raw-client');
  const java = rate('kafka-streams');
  for (const r of results) {
    if (r.recordsPerSec === null) continue;
    if (raw) r.vsRawClient = Number((r.recordsPerSec / raw).toFixed(2));
    // A system in several stream threads is compared with Kafka Streams in as many.
    const threads = /-(\d+-threads)$/.exec(r.system)?.[1];
    const peer = threads === undefined ? java : rate(`kafka-streams-${threads}`);
    if (peer) r.vsKafkaStreams = Number((r.recordsPerSec / peer).toFixed(2));
    if (bound) r.vsBound = Number((r.recordsPerSec / bound).toFixed(bound > 100 * r.recordsPerSec ? 4 : 2));
  }
}
