// The async operators' call durations are kept in plain numbers (BucketHistogram) and read by
// prom-client's registry at scrape time: the exposition must be the one prom-client's own
// histogram gives for the same observations.
import { expect } from 'chai';
import client from 'prom-client';
import { BucketHistogram } from '../../engine/observability/bucket-histogram.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];
const observations: Array<[string, number]> = [
  ['enrich', 0.0005],
  ['enrich', 0.001], // on a bound: counted in it (le is "less than or equal")
  ['enrich', 0.02],
  ['index', 0.5],
  ['enrich', 12], // past the last bound: only in +Inf
  ['index', 0.1],
  ['index', 0],
];

async function exposition(register: (registry: client.Registry) => (operator: string, seconds: number) => void): Promise<string> {
  const registry = new client.Registry();
  const observe = register(registry);
  for (const [operator, seconds] of observations) observe(operator, seconds);
  return registry.metrics();
}

describe('BucketHistogram', () => {
  it("writes the exposition prom-client's histogram writes for the same observations", async () => {
    const ours = await exposition((registry) => {
      const histogram = new BucketHistogram({ name: 'calls_seconds', help: 'Calls.', buckets: BUCKETS });
      registry.registerMetric(histogram as unknown as client.Metric);
      const observers = new Map<string, (seconds: number) => void>();
      return (operator, seconds) => {
        if (!observers.has(operator)) observers.set(operator, histogram.observer({ operator }));
        observers.get(operator)!(seconds);
      };
    });
    const theirs = await exposition((registry) => {
      const histogram = new client.Histogram({ name: 'calls_seconds', help: 'Calls.', labelNames: ['operator'], buckets: BUCKETS, registers: [registry] });
      return (operator, seconds) => histogram.observe({ operator }, seconds);
    });
    expect(ours).to.equal(theirs);
    expect(ours).to.include('calls_seconds_bucket{le="0.001",operator="enrich"} 2');
    expect(ours).to.include('calls_seconds_bucket{le="+Inf",operator="enrich"} 4');
    expect(ours).to.include('calls_seconds_count{operator="index"} 3');
  });

  it('shares one series between observers of the same labels, and a reset empties it', async () => {
    const histogram = new BucketHistogram({ name: 'calls_seconds', help: 'Calls.', buckets: BUCKETS });
    histogram.observer({ operator: 'a' })(0.5);
    histogram.observer({ operator: 'a' })(0.05);
    let lines = (await histogram.get()).values.filter((v) => v.metricName === 'calls_seconds_count');
    expect(lines).to.deep.equal([{ metricName: 'calls_seconds_count', labels: { operator: 'a' }, value: 2 }]);
    histogram.reset();
    lines = (await histogram.get()).values.filter((v) => v.metricName === 'calls_seconds_count' || v.metricName === 'calls_seconds_sum');
    expect(lines.map((v) => v.value)).to.deep.equal([0, 0]);
  });
});
