/** The shape of a stream workload's results file, as DESIGN.md fixes it (extra fields allowed). */
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
  skipped?: true;
  reason?: string;
  latency?: string;
  /** A peer stopped at --peer-timeout: its rate is over the records it committed by then. */
  incomplete?: string;
}

export interface StreamReport {
  workload: string;
  params: { records: number; keys: number; partitions: number; rounds?: unknown; mode?: unknown; ratePerSec?: unknown; [extra: string]: unknown };
  results: ReportEntry[];
}
