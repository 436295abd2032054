/**
 * The demo (`npm run demo`): starts the local Kafka broker (unless KAFKA_BOOTSTRAP_SERVERS names
 * one), runs the media-lifecycle topology on it, feeds it media events (some impossible
 * transitions, some malformed), and prints what the topology keeps and what it rejects.
 */
import { Application } from '../engine/runtime/application.ts';
import { KafkaAdmin } from '../engine/kafka/admin.ts';
import { KafkaConsumer } from '../engine/kafka/consumer.ts';
import { LocalBroker } from '../engine/local/kafka/local-broker.ts';
import { KafkaProducer } from '../engine/kafka/producer.ts';
import { createLogger } from '../engine/observability/logger.ts';
import { headerValue } from '../engine/processors/processor.ts';
import mediaLifecycle, { INPUT, ITEMS_STORE, REJECTED } from '../topologies/media-lifecycle.ts';
import { generateMediaEvents } from '../topologies/lib/media-event-generator.ts';
import { applyMediaEvent, type MediaItem } from '../topologies/lib/media-events.ts';

const say = (line: string) => process.stdout.write(line + '\n');
const ITEMS = 6;

const bootstrapServers =
  process.env.KAFKA_BOOTSTRAP_SERVERS ?? (await new LocalBroker({ progress: (line) => say(`[broker] ${line}`) }).start()).address;
const changelog = `${mediaLifecycle.applicationId}-${ITEMS_STORE}-changelog`;
say(`\nSluice demo: the media-lifecycle topology on Kafka at ${bootstrapServers}`);
say(`  ${INPUT} -> validate -> lifecycle state machine -> store "${ITEMS_STORE}" (changelog ${changelog})`);
say(`                                   \\-> impossible transitions and malformed records -> ${REJECTED}\n`);

const app = Application.create(mediaLifecycle, { bootstrapServers, logger: createLogger({}, process.env.SLUICE_LOG_LEVEL ?? 'warn') });
const admin = KafkaAdmin.connect({ bootstrapServers });
await admin.createTopics([INPUT, REJECTED].map((name) => ({ name, partitions: 3 })));
await app.start();
// Watch the rejected topic and the store's changelog from where they end now.
const watched = [REJECTED, changelog];
const watcher = await KafkaConsumer.connect({ bootstrapServers });
const positions = await Promise.all(watched.map(async (topic) => (await admin.topicOffsets(topic)).map(({ partition, high }) => ({ topic, partition, offset: high }))));
admin.disconnect();
watcher.assign(positions.flat());

// Item ids are new on each run: the store keeps the items of earlier runs.
const run = Date.now().toString(36);
const events = generateMediaEvents(ITEMS, { eventsPerItem: 6, seed: Date.now() % 1000, malformedEvery: 8, orderly: 0.8 }).map((e) => {
  const key = e.key.replace('media-', `media-${run}-`);
  return { ...e, key, value: Buffer.from(e.value.toString().replaceAll(e.key, key)), description: e.description.replace(e.key, key) };
});
// What the state machine predicts, to know when the topology is done.
const predicted = new Map<string, MediaItem>();
let rejections = 0;
for (const e of events) {
  const event = e.event && { ...e.event, aggregate_id: e.key };
  const outcome = event ? applyMediaEvent(predicted.get(e.key), event) : undefined;
  if (outcome && 'item' in outcome) predicted.set(e.key, outcome.item);
  else rejections++;
}

const producer = await KafkaProducer.connect({ bootstrapServers });
await producer.loadPartitionCounts([INPUT]);
say(`Producing ${events.length} records for ${ITEMS} media items to ${INPUT}:`);
for (const e of events) {
  producer.send({ topic: INPUT, key: Buffer.from(e.key), value: e.value, headers: e.headers });
  say(`  -> ${e.description}`);
}
await producer.flush();
await producer.disconnect();

say(`\nWhat the topology did (store updates arrive once per item per commit):`);
const latest = new Map<string, MediaItem>();
let rejected = 0;
const done = () => rejected >= rejections && [...predicted].every(([id, item]) => latest.get(id)?.version === item.version);
const deadline = Date.now() + 60_000;
while (!done() && Date.now() < deadline) {
  for (const record of await watcher.consume(500, 200)) {
    const correlation = headerValue(record.headers, 'correlation_id')?.slice(0, 8);
    if (record.topic === REJECTED) {
      rejected++;
      say(`  x ${record.key} rejected: ${headerValue(record.headers, 'rejection_reason')} (correlation ${correlation})`);
    } else if (record.value) {
      const item = JSON.parse(record.value.toString()) as MediaItem;
      latest.set(item.media_id, item);
      say(`  = ${item.media_id} is ${item.status} at v${item.version}`);
    }
  }
}
await watcher.disconnect();
await app.close();
say(`\n${ITEMS_STORE} now holds:`);
for (const [id, item] of [...latest].sort()) say(`  ${id}  ${item.status.padEnd(9)} v${item.version}  ${JSON.stringify(item.metadata)}`);
say(
  done()
    ? `\nDone: ${events.length - rejected} events applied to ${latest.size} items, ${rejected} records rejected with their reason.`
    : `\nThe topology did not finish within 60 s (${rejected} of ${rejections} rejections seen).`,
);
if (!done()) process.exitCode = 1;
