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

/** Samples the resident set size; `report` prints the peak. */
export function trackMemory(): { report: () => void } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  timer.unref();
  return {
    report: () => {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      process.stdout.write(JSON.stringify({ event: 'done', peakRssMb: Math.round(peak / 1048576) }) + '\n');
    },
  };
}
