/**
 * The shape of a workload's results file, a contract (docs/benchmarks.md): `{ workload, params,
 * results: [{ system, records, seconds, recordsPerSec, p50Ms?, p99Ms?, peakRssMb? }] }`, extra
 * fields allowed.
 */
export interface ReportEntry {
  system: string;
  records: number;
  seconds: number | null;
  recordsPerSec: number | null;
  p50Ms?: number;
  p99Ms?: number;
  peakRssMb?: number;
  vsRawClient?: number;
  vsKafkaStreams?: number;
  /** records/s over the workload's bound (`params.bound`), where it has one. */
  vsBound?: number;
  skipped?: true;
  reason?: string;
  latency?: string;
  /** A peer stopped at --peer-timeout: its rate is over the records it committed by then. */
  incomplete?: string;
  /** A system too slow for the whole input, timed over its first records: which. */
  prefix?: string;
}

export interface StreamReport {
  workload: string;
  params: {
    records: number;
    keys: number;
    partitions: number;
    rounds?: unknown;
    mode?: unknown;
    ratePerSec?: unknown;
    /** A join's second input: what it holds and how many records (the rates count both inputs). */
    secondInput?: { name: string; records: number };
    /** The most any system can do on the workload, and why (async-enrich: calls in flight over the service's delay). */
    bound?: { recordsPerSec: number; what: string };
    [extra: string]: unknown;
  };
  results: ReportEntry[];
}

/** One system's measurement in one round. */
export interface RunResult {
  system: string;
  records: number;
  seconds: number;
  recordsPerSec: number;
  peakRssMb?: number;
  [extra: string]: unknown;
}

/** A system that did not run: not installable, or failed, with the reason. */
export interface SkippedResult {
  system: string;
  records: number;
  seconds: null;
  recordsPerSec: null;
  skipped: true;
  reason: string;
  [extra: string]: unknown;
}

/** A results file of any workload. */
export interface Report {
  workload: string;
  params: { records: number; keys: number; partitions: number; [extra: string]: unknown };
  results: Array<RunResult | SkippedResult>;
}
