/**
 * Which consumption API of @confluentinc/kafka-javascript is fastest? Reads the same topic to
 * its end with the low-level batch `consume(n)` (what Sluice uses) and with the KafkaJS-style
 * `eachBatch` and `eachMessage`, each with a fresh group, alternating over the rounds.
 * `node --import tsx bench/client-apis.ts [records] [rounds]`
 */
import Kafka from '@confluentinc/kafka-javascript';
import { KafkaAdmin } from '../engine/kafka/admin.ts';
import { LocalBroker } from '../engine/local/kafka/local-broker.ts';
import { KafkaProducer } from '../engine/kafka/producer.ts';
import { statelessValue } from './workloads/stateless.ts';

const records = Number(process.argv[2] ?? 500_000);
const rounds = Number(process.argv[3] ?? 2);
const brokers = process.env.KAFKA_BOOTSTRAP_SERVERS ?? (await new LocalBroker().start()).address;
const topic = `bench-client-apis-${Date.now()}`;
const admin = KafkaAdmin.connect({ bootstrapServers: brokers });
await admin.createTopics([{ name: topic, partitions: 6 }]);
const producer = await KafkaProducer.connect({ bootstrapServers: brokers });
await producer.loadPartitionCounts([topic]);
for (let i = 0; i < records; i++) producer.send({ topic, key: Buffer.from(`user-${i % 10_000}`), value: statelessValue(i, 10_000, 256) });
await producer.disconnect();

async function lowLevel(group: string): Promise<number> {
  const consumer = new Kafka.KafkaConsumer(
    { 'bootstrap.servers': brokers, 'group.id': group, 'enable.auto.commit': false, 'fetch.wait.max.ms': 100 },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve(null))));
  (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(b: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
  consumer.setDefaultConsumeTimeout(100);
  consumer.subscribe([topic]);
  let seen = 0;
  let started = 0;
  while (seen < records) {
    const batch: Kafka.Message[] = await new Promise((resolve, reject) => consumer.consume(5000, (err, m) => (err ? reject(err) : resolve(m))));
    if (batch.length > 0 && started === 0) started = performance.now();
    for (const m of batch) seen += m.value!.length > 0 ? 1 : 0;
  }
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => consumer.disconnect(resolve));
  return records / seconds;
}

async function kafkaJs(group: string, mode: 'eachBatch' | 'eachMessage'): Promise<number> {
  const kafka = new Kafka.KafkaJS.Kafka({ kafkaJS: { brokers: brokers.split(','), logLevel: Kafka.KafkaJS.logLevel.NOTHING } });
  const consumer = kafka.consumer({ kafkaJS: { groupId: group, fromBeginning: true, autoCommit: false } });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  let seen = 0;
  let started = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const count = (n: number) => {
    if (started === 0) started = performance.now();
    seen += n;
    if (seen >= records) finish();
  };
  await consumer.run(
    mode === 'eachBatch'
      ? { partitionsConsumedConcurrently: 6, eachBatch: async ({ batch }) => count(batch.messages.filter((m) => m.value!.length > 0).length) }
      : { partitionsConsumedConcurrently: 6, eachMessage: async ({ message }) => count(message.value!.length > 0 ? 1 : 0) },
  );
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await consumer.disconnect();
  return records / seconds;
}

const results = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of [
    ['consume(5000)', (g: string) => lowLevel(g)],
    ['KafkaJS eachBatch', (g: string) => kafkaJs(g, 'eachBatch')],
    ['KafkaJS eachMessage', (g: string) => kafkaJs(g, 'eachMessage')],
  ] as const) {
    const rate = await run(`${topic}-${name.replace(/\W/g, '')}-${round}`);
    results.set(name, [...(results.get(name) ?? []), rate]);
    process.stderr.write(`round ${round + 1} ${name}: ${Math.round(rate).toLocaleString()} records/s\n`);
  }
}
await admin.deleteTopics([topic]);
admin.disconnect();
process.stdout.write(`\n${records.toLocaleString()} records of 256 B, 6 partitions, best of ${rounds}:\n| API | records/s |\n| --- | ---: |\n`);
for (const [name, rates] of results) process.stdout.write(`| ${name} | ${Math.round(Math.max(...rates)).toLocaleString()} |\n`);
