/**
 * The `restore` workload's baseline: reads every partition of a topic (BENCH_INPUT) from its
 * start to its end with Sluice's reader (engine/kafka/reader.ts, the same one restoration
 * uses, read_committed) and does nothing with the records. Prints
 * `{"event":"read","records","seconds"}` (timed from the first fetch to the end), then the
 * peak RSS, and exits.
 */
import { KafkaConsumer } from '../../engine/kafka/consumer.ts';
import { BULK_READ, readRanges } from '../../engine/kafka/reader.ts';
import { announceReady, settingsFromEnv, trackMemory } from './protocol.ts';

const settings = settingsFromEnv();
const memory = trackMemory();
const partitions = Number(process.env.BENCH_PARTITIONS ?? 6);

// The same consumer settings restoration reads with.
const consumer = await KafkaConsumer.connect({ bootstrapServers: settings.bootstrapServers, isolationLevel: 'read_committed', properties: BULK_READ });
const ranges = [];
for (let partition = 0; partition < partitions; partition++) {
  const { low, high } = await consumer.watermarks(settings.input, partition);
  ranges.push({ topic: settings.input, partition, from: low, to: high });
}
announceReady();
let records = 0;
let bytes = 0;
const started = performance.now();
await readRanges(consumer, ranges, (batch) => {
  records += batch.length;
  for (const record of batch) bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
});
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ event: 'read', records, bytes, seconds }) + '\n');
memory.report();
await consumer.disconnect();
process.exit(0);
