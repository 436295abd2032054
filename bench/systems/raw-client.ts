/**
 * The baseline: a batched consume → transform → produce loop written directly on
 * @confluentinc/kafka-javascript, the way a careful hand-rolled consumer would be. Sends are
 * not awaited one by one; before each commit it waits for all delivery reports, so it gives
 * the same at-least-once guarantee as Sluice.
 */
import Kafka from '@confluentinc/kafka-javascript';
import { enrich, keep, type StatelessEvent } from '../workloads/stateless.ts';
import { announceReady, settingsFromEnv, trackMemory } from './protocol.ts';

const settings = settingsFromEnv();
const memory = trackMemory();

let pending = 0;
let idle: (() => void) | undefined;
const producer = new Kafka.Producer({
  'bootstrap.servers': settings.bootstrapServers,
  'enable.idempotence': true,
  partitioner: 'murmur2_random',
  'linger.ms': 5,
  'queue.buffering.max.messages': 500_000,
  dr_cb: true,
});
producer.on('delivery-report', (err) => {
  if (err) throw err;
  if (--pending === 0) idle?.();
});
await new Promise((resolve, reject) => producer.connect({}, (err) => (err ? reject(err) : resolve(null))));
producer.setPollInBackground(true);

let announced = false;
const consumer = new Kafka.KafkaConsumer(
  {
    'bootstrap.servers': settings.bootstrapServers,
    'group.id': settings.group,
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'partition.assignment.strategy': 'cooperative-sticky',
    'fetch.wait.max.ms': 100,
    rebalance_cb: function (this: Kafka.KafkaConsumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]) {
      const self = this as unknown as { incrementalAssign(a: Kafka.Assignment[]): void; incrementalUnassign(a: Kafka.Assignment[]): void };
      if (err.code === -175) {
        self.incrementalAssign(assignment);
        if (!announced && assignment.length > 0) {
          announced = true;
          announceReady();
        }
      } else self.incrementalUnassign(assignment);
    },
  },
  { 'auto.offset.reset': 'earliest' },
);
await new Promise((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve(null))));
(consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(b: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
consumer.setDefaultConsumeTimeout(100);
consumer.subscribe([settings.input]);

let running = true;
process.on('SIGTERM', () => (running = false));
const positions = new Map<string, Kafka.TopicPartitionOffset>();
let nextCommit = Date.now() + settings.commitIntervalMs;

async function commit(): Promise<void> {
  producer.flush(0);
  if (pending > 0) await new Promise<void>((resolve) => (idle = resolve));
  idle = undefined;
  if (positions.size > 0) consumer.commitSync([...positions.values()]);
  positions.clear();
  nextCommit = Date.now() + settings.commitIntervalMs;
}

while (running) {
  const batch: Kafka.Message[] = await new Promise((resolve, reject) => consumer.consume(5000, (err, messages) => (err ? reject(err) : resolve(messages))));
  for (const message of batch) {
    const event = JSON.parse(message.value!.toString()) as StatelessEvent;
    if (keep(event)) {
      producer.produce(settings.output, -1, Buffer.from(JSON.stringify(enrich(event))), message.key, message.timestamp, undefined, message.headers);
      pending++;
    }
    positions.set(`${message.partition}`, { topic: message.topic, partition: message.partition, offset: message.offset + 1 });
  }
  if (Date.now() >= nextCommit) await commit();
}
await commit();
memory.report();
await new Promise((resolve) => consumer.disconnect(resolve));
await new Promise((resolve) => producer.disconnect(resolve));
process.exit(0);
