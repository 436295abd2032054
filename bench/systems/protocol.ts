/**
 * How a benchmarked system talks to the harness: it reads its settings from the environment,
 * prints `{"event":"ready"}` once it owns partitions, and on SIGTERM stops, prints
 * `{"event":"done","peakRssMb":…}` and exits.
 */
import fs from 'node:fs';
import v8 from 'node:v8';
export interface SystemSettings {
  bootstrapServers: string;
  input: string;
  /** A join's second input (`BENCH_INPUT2`): the table's topic, or the other stream's. */
  input2?: string;
  output: string;
  group: string;
  commitIntervalMs: number;
}

export function settingsFromEnv(): SystemSettings {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    bootstrapServers: need('KAFKA_BOOTSTRAP_SERVERS'),
    input: need('BENCH_INPUT'),
    ...(process.env.BENCH_INPUT2 ? { input2: process.env.BENCH_INPUT2 } : {}),
    output: need('BENCH_OUTPUT'),
    group: need('BENCH_GROUP'),
    commitIntervalMs: Number(process.env.BENCH_COMMIT_INTERVAL_MS ?? 1000),
  };
}

export function announceReady(): void {
  process.stdout.write(JSON.stringify({ event: 'ready' }) + '\n');
}

const mb = (bytes: number) => Math.round(bytes / 1048576);

/**
 * Samples the resident set size; `report` prints the peak, with the V8 heap and the memory
 * outside it (Buffers) at the moment of the peak, to show where it went.
 */
export function trackMemory(): { report: () => void } {
  let peak = process.memoryUsage();
  // BENCH_MEMLOG=<file>: also appends every sample there (JSON lines, MB), with V8's old space.
  const log = process.env.BENCH_MEMLOG;
  const started = performance.now();
  const sample = () => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
    if (log) {
      const old = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
      const line = {
        t: Math.round(performance.now() - started),
        rss: mb(now.rss),
        heapTotal: mb(now.heapTotal),
        heapUsed: mb(now.heapUsed),
        oldUsed: mb(old?.space_used_size ?? 0),
        external: mb(now.external),
        arrayBuffers: mb(now.arrayBuffers),
      };
      fs.appendFileSync(log, JSON.stringify(line) + '\n');
    }
  };
  const timer = setInterval(sample, 100);
  timer.unref();
  return {
    report: () => {
      clearInterval(timer);
      sample();
      process.stdout.write(
        JSON.stringify({ event: 'done', peakRssMb: mb(peak.rss), atPeak: { heapUsedMb: mb(peak.heapUsed), heapTotalMb: mb(peak.heapTotal), externalMb: mb(peak.external) } }) + '\n',
      );
    },
  };
}
