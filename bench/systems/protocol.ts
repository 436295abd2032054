/**
 * How a benchmarked system talks to the harness: it reads its settings from the environment,
 * prints `{"event":"ready"}` once it owns partitions, and on SIGTERM stops, prints
 * `{"event":"done","peakRssMb":…}` and exits.
 */
export interface SystemSettings {
  bootstrapServers: string;
  input: string;
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
    output: need('BENCH_OUTPUT'),
    group: need('BENCH_GROUP'),
    commitIntervalMs: Number(process.env.BENCH_COMMIT_INTERVAL_MS ?? 1000),
  };
}

export function announceReady(): void {
  process.stdout.write(JSON.stringify({ event: 'ready' }) + '\n');
}

/**
 * Samples the resident set size; `report` prints the peak, with the V8 heap and the memory
 * outside it (Buffers) at the moment of the peak, to show where it went.
 */
export function trackMemory(): { report: () => void } {
  let peak = process.memoryUsage();
  const sample = () => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
  };
  const timer = setInterval(sample, 100);
  timer.unref();
  const mb = (bytes: number) => Math.round(bytes / 1048576);
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
