/**
 * The demo (`npm run demo`): starts the local Kafka broker (unless KAFKA_BOOTSTRAP_SERVERS names
 * one), runs the media-lifecycle topology on it, feeds it media events, some malformed, and
 * prints every record that flows in and out.
 */
import { Application } from '../engine/runtime/application.ts';
import { KafkaAdmin } from '../engine/kafka/admin.ts';
import { KafkaConsumer } from '../engine/kafka/consumer.ts';
import { LocalBroker } from '../engine/kafka/local-broker/local-broker.ts';
import { KafkaProducer } from '../engine/kafka/producer.ts';
import { createLogger } from '../engine/observability/logger.ts';
import { headerValue } from '../engine/processors/processor.ts';
import mediaLifecycle, { INPUT, REJECTED } from '../topologies/media-lifecycle.ts';
import { generateMediaEvents } from '../topologies/media-event-generator.ts';
import { ROUTES } from '../topologies/media-events.ts';

const say = (line: string) => process.stdout.write(line + '\n');
const ITEMS = 6;

const bootstrapServers =
  process.env.KAFKA_BOOTSTRAP_SERVERS ?? (await new LocalBroker({ progress: (line) => say(`[broker] ${line}`) }).start()).address;
const outputs = [...Object.values(ROUTES), REJECTED];
say(`\nSluice demo: the media-lifecycle topology on Kafka at ${bootstrapServers}`);
say(`  ${INPUT} -> validate -> route by event type -> ${Object.values(ROUTES).join(', ')}`);
say(`                       \\-> malformed records -> ${REJECTED} (original bytes, reason in a header)\n`);

const admin = KafkaAdmin.connect({ bootstrapServers });
await admin.createTopics([INPUT, ...outputs].map((name) => ({ name, partitions: 3 })));
const ends = new Map<string, Array<{ partition: number; high: number }>>();
for (const topic of outputs) ends.set(topic, await admin.topicOffsets(topic));
admin.disconnect();

// Watch the output topics from where they end now.
const watcher = await KafkaConsumer.connect({ bootstrapServers });
watcher.assign(outputs.flatMap((topic) => ends.get(topic)!.map(({ partition, high }) => ({ topic, partition, offset: high }))));

const app = Application.create(mediaLifecycle, { bootstrapServers, logger: createLogger({}, process.env.SLUICE_LOG_LEVEL ?? 'warn') });
await app.start();

const events = generateMediaEvents(ITEMS, ROUTES, REJECTED);
const producer = await KafkaProducer.connect({ bootstrapServers });
await producer.loadPartitionCounts([INPUT]);
say(`Producing ${events.length} records for ${ITEMS} media items to ${INPUT}:`);
for (const e of events) {
  producer.send({ topic: INPUT, key: Buffer.from(e.key), value: e.value, headers: e.headers });
  say(`  -> ${e.description}`);
}
await producer.flush();
await producer.disconnect();

say(`\nWhat the topology wrote:`);
let seen = 0;
const deadline = Date.now() + 60_000;
while (seen < events.length && Date.now() < deadline) {
  for (const record of await watcher.consume(500, 200)) {
    seen++;
    const correlation = headerValue(record.headers, 'correlation_id')?.slice(0, 8);
    if (record.topic === REJECTED) {
      say(`  x ${record.topic}[${record.partition}] ${record.key} — ${headerValue(record.headers, 'rejection_reason')} (correlation ${correlation})`);
    } else {
      const event = JSON.parse(record.value!.toString());
      say(`  <- ${record.topic}[${record.partition}] ${record.key} ${event.event_type} v${event.version} (correlation ${correlation})`);
    }
  }
}
await watcher.disconnect();
await app.close();
const rejected = events.filter((e) => e.expected === REJECTED).length;
say(
  seen === events.length
    ? `\nDone: ${events.length - rejected} events routed by type (each topic keyed by media id, so an item's events stay in order within it), ${rejected} malformed records rejected.`
    : `\nOnly ${seen} of ${events.length} records came out within 60 s.`,
);
if (seen !== events.length) process.exitCode = 1;
