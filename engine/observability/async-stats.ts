import client from 'prom-client';
import { BucketHistogram } from './bucket-histogram.ts';
import { MetricNames } from './metric-names.ts';

/** One async operator's numbers, summed over the tasks of this instance. */
export interface AsyncOperatorStats {
  /** Records taken and not yet passed on (running, waiting for their key or a slot, backing off). */
  inFlight: number;
  /** Calls started, retries included. */
  calls: number;
  retries: number;
  timeouts: number;
  /** Records whose every attempt failed (they went to the operator's error handling). */
  failures: number;
}

/**
 * The async operators' numbers: plain counters on the call path, read at scrape time, and the
 * calls' durations in a histogram of plain numbers too (one observation per call, not per record of
 * the synchronous path). The histogram joins the application's registry when its metrics start.
 */
export class AsyncStats {
  private readonly operators = new Map<string, AsyncOperatorStats>();
  readonly durations = new BucketHistogram({
    name: MetricNames.asyncCallDuration,
    help: "Async operators' calls, from start to their promise settling (or timing out), per operator.",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });

  /** The numbers of one operator (created at zero). */
  of(operator: string): AsyncOperatorStats {
    let stats = this.operators.get(operator);
    if (stats === undefined) this.operators.set(operator, (stats = { inFlight: 0, calls: 0, retries: 0, timeouts: 0, failures: 0 }));
    return stats;
  }

  all(): ReadonlyMap<string, AsyncOperatorStats> {
    return this.operators;
  }

  /** Registers the gauges and counters, read from the numbers at each scrape, and the histogram. */
  register(registry: client.Registry): void {
    const registers = [registry];
    const operators = this.operators;
    const perOperator = (kind: 'gauge' | 'counter', name: string, help: string, read: (s: AsyncOperatorStats) => number) => {
      const Metric = kind === 'gauge' ? client.Gauge : client.Counter;
      new Metric({
        name,
        help,
        labelNames: ['operator'],
        registers,
        collect(this: client.Gauge<'operator'> | client.Counter<'operator'>) {
          this.reset();
          for (const [operator, stats] of operators) (this as client.Gauge<'operator'>).inc({ operator }, read(stats));
        },
      });
    };
    perOperator('gauge', MetricNames.asyncInFlight, 'Records an async operator has taken and not yet passed on, per operator.', (s) => s.inFlight);
    perOperator('counter', MetricNames.asyncCalls, "Async operators' calls started (retries included), per operator.", (s) => s.calls);
    perOperator('counter', MetricNames.asyncRetries, "Async operators' calls made again after a failure, per operator.", (s) => s.retries);
    perOperator('counter', MetricNames.asyncTimeouts, "Async operators' calls that did not finish within timeoutMs, per operator.", (s) => s.timeouts);
    perOperator('counter', MetricNames.asyncFailures, 'Records whose async call failed on every attempt (passed to the error handling), per operator.', (s) => s.failures);
    // Read at scrape time as prom-client's own metrics are (see BucketHistogram).
    registry.registerMetric(this.durations as unknown as client.Metric);
  }
}
