/** One line of the exposition, as prom-client's registry reads it. */
export interface MetricLine {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** One labelled series: its buckets' own counts (not cumulative), sum and count. */
interface Series {
  readonly labels: Record<string, string>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram for the per-record path: an observation is a bucket search and three additions on
 * plain numbers, where prom-client's own histogram checks and hashes the labels again on every
 * observation, even through a child bound to them. The registry reads it at scrape time as it
 * reads prom-client's metrics (`get()`), so the exposition is the same: cumulative `_bucket`
 * series with `le` and `+Inf`, then `_sum` and `_count`, per set of labels.
 */
export class BucketHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(options: { name: string; help: string; buckets: readonly number[] }) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = [...options.buckets].sort((a, b) => a - b);
  }

  /** The function that observes a value (in the histogram's unit) for these labels. */
  observer(labels: Record<string, string>): (value: number) => void {
    const id = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let series = this.series.get(id);
    if (series === undefined) this.series.set(id, (series = { labels: { ...labels }, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 }));
    const found = series;
    const bounds = this.bounds;
    return (value) => {
      let i = 0;
      while (i < bounds.length && value > bounds[i]!) i++;
      found.counts[i]!++;
      found.sum += value;
      found.count++;
    };
  }

  /** Forgets every observation (the registry's `resetMetrics`); observers stay bound. */
  reset(): void {
    for (const series of this.series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }

  /** What prom-client's registry reads from a metric at scrape time. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: MetricLine[] }> {
    const bucket = `${this.name}_bucket`;
    const values: MetricLine[] = [];
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += counts[i]!;
        values.push({ metricName: bucket, labels: { le: bound, ...labels }, value: cumulative });
      });
      values.push({ metricName: bucket, labels: { le: '+Inf', ...labels }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
