/**
 * The failover workload's application (`sluice run` it): counts `BENCH_INPUT` per key into the
 * store `counts` (write-back cache on, the default), each update written to `BENCH_OUTPUT`.
 * Standbys, threads and timeouts come from the run's `--config`.
 */
import { defineApplication, Serdes } from 'sluice';

export default defineApplication({
  applicationId: 'bench-failover',
  keySerde: Serdes.string(),
  valueSerde: Serdes.bytes(),
  topology: (builder) =>
    builder
      .stream<string, Buffer>(process.env.BENCH_INPUT ?? 'failover-in')
      .groupByKey()
      .count({ name: 'counts' })
      .toStream()
      .to(process.env.BENCH_OUTPUT ?? 'failover-out', { value: Serdes.json() }),
});
