/**
 * What one produced record costs the JavaScript thread: sends records of 100 B (keyed
 * `customer-<n>`, to a partition of 6 given with each record, as the engine places them) through
 * Sluice's own producer in slices of 25,000, as a commit's flush or a batch's outputs hand them
 * over, waiting for delivery after each slice; prints, for each round, the µs the thread spent
 * in `send` per record and the records/s including delivery. See bench/README.md, "The Kafka
 * client's producer".
 * `node --import tsx bench/client-produce.ts [records] [rounds]`
 */
import { KafkaAdmin } from '../engine/kafka/admin.ts';
import { KafkaProducer } from '../engine/kafka/producer.ts';
import { LocalBroker } from '../engine/local/kafka/local-broker.ts';

const records = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 3);
const brokers = process.env.KAFKA_BOOTSTRAP_SERVERS ?? (await new LocalBroker().start()).address;
const topic = `bench-client-produce-${Date.now()}`;
const partitions = 6;
const slice = 25_000;
const admin = KafkaAdmin.connect({ bootstrapServers: brokers });
await admin.createTopics([{ name: topic, partitions }]);
const keys = Array.from({ length: 100_000 }, (_, n) => Buffer.from(`customer-${n}`));
const value = Buffer.alloc(100, 'x');

for (let round = 1; round <= rounds; round++) {
  const producer = await KafkaProducer.connect({ bootstrapServers: brokers });
  await producer.loadPartitionCounts([topic]);
  let sending = 0;
  const startedAt = performance.now();
  for (let i = 0; i < records; ) {
    const sliceStart = performance.now();
    for (const end = Math.min(records, i + slice); i < end; i++) producer.send({ topic, partition: i % partitions, key: keys[i % keys.length]!, value, timestamp: 1_700_000_000_000 + i });
    sending += performance.now() - sliceStart;
    await producer.flush();
  }
  const seconds = (performance.now() - startedAt) / 1000;
  await producer.disconnect();
  process.stdout.write(`round ${round}: ${((sending * 1000) / records).toFixed(2)} µs per send, ${Math.round(records / seconds).toLocaleString('en-US')} records/s delivered\n`);
}
await admin.deleteTopics([topic]);
admin.disconnect();
