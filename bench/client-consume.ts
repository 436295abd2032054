/**
 * What one consumed message costs the JavaScript thread: reads one topic (1,000,000 records of
 * 100 B, keyed `customer-<n>`, 6 partitions) to its end through Sluice's own consumer (its
 * read-ahead settings, batches of 5,000, as the processing loop takes them), touching each key
 * and value, and prints records/s and µs per record for each round. With the client as
 * `scripts/patch-kafka-client.sh` leaves it, then (to compare) with the client built without
 * the patch; see bench/README.md, "The Kafka client's consumer".
 * `node --import tsx bench/client-consume.ts [records] [rounds]`
 */
import { KafkaAdmin } from '../engine/kafka/admin.ts';
import { KafkaConsumer } from '../engine/kafka/consumer.ts';
import { KafkaProducer } from '../engine/kafka/producer.ts';
import { LocalBroker } from '../engine/local/kafka/local-broker.ts';

const records = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 3);
const brokers = process.env.KAFKA_BOOTSTRAP_SERVERS ?? (await new LocalBroker().start()).address;
const topic = `bench-client-consume-${Date.now()}`;
const partitions = 6;
const admin = KafkaAdmin.connect({ bootstrapServers: brokers });
await admin.createTopics([{ name: topic, partitions }]);
const producer = await KafkaProducer.connect({ bootstrapServers: brokers });
await producer.loadPartitionCounts([topic]);
const value = Buffer.alloc(100, 'x');
for (let i = 0; i < records; i++) {
  producer.send({ topic, key: Buffer.from(`customer-${i % 100_000}`), value });
  if (i % 100_000 === 99_999) await producer.flush();
}
await producer.disconnect();

for (let round = 1; round <= rounds; round++) {
  const consumer = await KafkaConsumer.connect({ bootstrapServers: brokers });
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
  let read = 0;
  let bytes = 0;
  let startedAt = 0;
  while (read < records) {
    const batch = await consumer.consume(5_000, 1_000);
    if (startedAt === 0 && batch.length > 0) startedAt = performance.now();
    for (const record of batch) bytes += record.value!.length + record.key!.length;
    read += batch.length;
  }
  const seconds = (performance.now() - startedAt) / 1000;
  await consumer.disconnect(10_000);
  process.stdout.write(`round ${round}: ${Math.round(read / seconds).toLocaleString('en-US')} records/s, ${((seconds * 1e6) / read).toFixed(2)} µs per record (${bytes.toLocaleString('en-US')} bytes)\n`);
}
await admin.deleteTopics([topic]);
admin.disconnect();
