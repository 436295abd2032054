/**
 * The baseline: a batched consume → process → produce loop written directly on
 * @confluentinc/kafka-javascript, the way a careful hand-rolled consumer would be. Sends are
 * not awaited one by one; before each commit it waits for all delivery reports, so it gives
 * the same at-least-once guarantee as Sluice.
 *
 * `BENCH_WORKLOAD` picks the work: `stateless` (parse, filter, map, write JSON) or
 * `stateful-count` / `stateful-rss` (a count per key in a Map per partition; at each commit it
 * writes the latest count of every key changed since the last one, then commits). Outputs carry
 * their input record's timestamp (a count, its latest record's), for open-loop latency.
 */
import Kafka from '@confluentinc/kafka-javascript';
import { enrich, keep, type StatelessEvent } from '../workloads/stateless.ts';
import { announceReady, settingsFromEnv, trackMemory } from './protocol.ts';

const settings = settingsFromEnv();
const memory = trackMemory();
const workload = process.env.BENCH_WORKLOAD ?? 'stateless';

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

function send(value: Buffer, key: Kafka.MessageKey | undefined, timestamp?: number, headers?: Kafka.MessageHeader[]): void {
  producer.produce(settings.output, -1, value, key, timestamp, undefined, headers);
  pending++;
}

/**
 * Per partition: key → count, and the keys changed since the last commit, each with the
 * timestamp of its latest record, which its output carries (as a Kafka Streams count's does).
 */
const counts = new Map<number, Map<string, number>>();
const changed = new Map<number, Map<string, number>>();

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
      } else {
        // A single-instance benchmark: revoked partitions simply drop their counts.
        for (const { partition } of assignment) {
          counts.delete(partition);
          changed.delete(partition);
        }
        self.incrementalUnassign(assignment);
      }
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
const positions = new Map<number, Kafka.TopicPartitionOffset>();
let nextCommit = Date.now() + settings.commitIntervalMs;

/** Writes the latest count of each key changed since the last commit. */
function emitChangedCounts(): void {
  for (const [partition, keys] of changed) {
    const table = counts.get(partition)!;
    for (const [key, timestamp] of keys) send(Buffer.from(String(table.get(key))), Buffer.from(key), timestamp);
    keys.clear();
  }
}

async function commit(): Promise<void> {
  if (workload !== 'stateless') emitChangedCounts();
  producer.flush(0);
  if (pending > 0) await new Promise<void>((resolve) => (idle = resolve));
  idle = undefined;
  if (positions.size > 0) consumer.commitSync([...positions.values()]);
  positions.clear();
  nextCommit = Date.now() + settings.commitIntervalMs;
}

function processStateless(batch: Kafka.Message[]): void {
  for (const message of batch) {
    const event = JSON.parse(message.value!.toString()) as StatelessEvent;
    if (keep(event)) send(Buffer.from(JSON.stringify(enrich(event))), message.key, message.timestamp, message.headers);
    positions.set(message.partition, { topic: message.topic, partition: message.partition, offset: message.offset + 1 });
  }
}

function processCount(batch: Kafka.Message[]): void {
  for (const message of batch) {
    const { partition } = message;
    let table = counts.get(partition);
    let keys = changed.get(partition);
    if (table === undefined || keys === undefined) {
      counts.set(partition, (table = new Map()));
      changed.set(partition, (keys = new Map()));
    }
    const key = message.key!.toString();
    table.set(key, (table.get(key) ?? 0) + 1);
    keys.set(key, message.timestamp ?? Date.now());
    positions.set(partition, { topic: message.topic, partition, offset: message.offset + 1 });
  }
}

while (running) {
  const batch: Kafka.Message[] = await new Promise((resolve, reject) => consumer.consume(5000, (err, messages) => (err ? reject(err) : resolve(messages))));
  if (workload === 'stateless') processStateless(batch);
  else processCount(batch);
  if (Date.now() >= nextCommit) await commit();
}
await commit();
memory.report();
await new Promise((resolve) => consumer.disconnect(resolve));
await new Promise((resolve) => producer.disconnect(resolve));
process.exit(0);
