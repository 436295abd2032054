// No single record stops a pipeline: a valid envelope nested 20,000 levels deep, a record of
// about 1 MB that the input topic takes but no topic the topology writes does, a zero-length
// value and a key that is not UTF-8, through the scenario topologies on a real broker. Each
// goes where the topology's error handling says, with its original bytes, and what comes after
// it is processed.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { ApplicationDefinition } from '../../engine/runtime/definition.ts';
import type { StreamsBuilder } from '../../engine/dsl/builder.ts';
import { DeadLetterHeaders } from '../../engine/runtime/record-errors.ts';
import { headerValue } from '../../engine/processors/processor.ts';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import analytics, { eventAnalytics } from '../../topologies/event-analytics.ts';
import media, { mediaLifecycle } from '../../topologies/media-lifecycle.ts';
import posts, { postSearch } from '../../topologies/post-search.ts';
import users, { userProjection } from '../../topologies/user-projection.ts';
import { startApplication, waitForRecords } from '../helpers/app.ts';
import { bootstrapServers, createTopic, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const DEPTH = 20_000;

/** An event envelope's JSON text around `dataText`, written by hand (the data may be too deep for JSON.stringify). */
function envelope(type: string, aggregateId: string, version: number, dataText: string): string {
  const head = JSON.stringify({
    event_id: randomUUID(),
    event_type: type,
    aggregate_type: 'Thing',
    aggregate_id: aggregateId,
    version,
    timestamp: new Date().toISOString(),
    correlation_id: randomUUID(),
    causation_id: null,
  });
  return `${head.slice(0, -1)},"data":${dataText}}`;
}

/** Data with the fields `fields` (JSON text each) and a field `deep` nested DEPTH levels. */
const deepData = (fields: string) => `{${fields}${fields ? ',' : ''}"deep":${'{"n":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}}`;

interface Scenario {
  name: string;
  definition: ApplicationDefinition;
  build: (builder: StreamsBuilder, input: string, deadLetter: string) => void;
  store: string;
  /** A valid first event for `id`, its data given as JSON text. */
  event: (id: string, dataText: (fields: string) => string) => string;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'event-analytics',
    definition: analytics,
    build: (builder, input, deadLetter) => eventAnalytics(builder, { input, deadLetter, rates: `${input}-rates` }),
    store: 'event-counts',
    event: (id, data) => envelope(`Type-${id}`, id, 1, data('')),
  },
  {
    name: 'media-lifecycle',
    definition: media,
    build: (builder, input, rejected) => mediaLifecycle(builder, { input, rejected }),
    store: 'media-items',
    event: (id, data) => envelope('MediaItemCreated', id, 1, data('')),
  },
  {
    name: 'post-search',
    definition: posts,
    build: (builder, input, deadLetter) => postSearch(builder, { input, deadLetter }),
    store: 'posts',
    event: (id, data) => envelope('post.created', id, 1, data('"title":"t","author_id":"a"')),
  },
  {
    name: 'user-projection',
    definition: users,
    build: (builder, input, deadLetter) => userProjection(builder, { input, deadLetter }),
    store: 'users',
    event: (id, data) => envelope('UserCreated', id, 1, data('"email":"e@example.com","name":"n"')),
  },
];

/** Produces with a client that takes records of up to 4 MB (the input topics take them). */
async function produceLarge(topic: string, records: Array<{ key: Buffer | string; value: Buffer | string }>): Promise<void> {
  const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers(), properties: { 'message.max.bytes': 4_000_000 } });
  try {
    await producer.loadPartitionCounts([topic]);
    for (const r of records) producer.send({ topic, key: Buffer.from(r.key), value: Buffer.from(r.value) });
    await producer.flush();
  } finally {
    await producer.disconnect();
  }
}

/** Keys whose latest changelog record is live, for a store of an application. */
async function keysIn(applicationId: string, store: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const r of await readAll(`${applicationId}-${store}-changelog`).catch(() => [])) {
    if (r.value === null) keys.delete(r.key!.toString());
    else keys.add(r.key!.toString());
  }
  return keys;
}

async function waitForKey(applicationId: string, store: string, key: string, timeoutMs = 60_000): Promise<Set<string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const keys = await keysIn(applicationId, store);
    if (keys.has(key) || Date.now() > deadline) return keys;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function run(scenario: Scenario, records: Array<{ key: Buffer | string; value: Buffer | string }>, check: (setup: { applicationId: string; deadLetter: string }) => Promise<void>) {
  const prefix = uniqueName(scenario.name);
  const input = await createTopic(`${prefix}-in`, 2, { 'max.message.bytes': String(4_000_000) });
  const deadLetter = `${prefix}-dead-letter`;
  const applicationId = `${prefix}-app`;
  const definition: ApplicationDefinition = {
    ...scenario.definition,
    onProcessingError: { deadLetterTopic: deadLetter },
    topology: (builder) => scenario.build(builder, input, deadLetter),
  };
  const app = await startApplication(definition, { applicationId, stateDir: tempStateDir() });
  try {
    await produceLarge(input, records);
    await check({ applicationId, deadLetter });
    expect(app.state, 'still running').to.equal('RUNNING');
  } finally {
    await app.close();
  }
}

describe('poison records through the scenario topologies (real broker)', function () {
  this.timeout(180_000);

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: an event nested ${DEPTH} levels deep is processed like any other, and so is the next`, async () => {
      await run(scenario, [
        { key: 'deep-1', value: scenario.event('deep-1', deepData) },
        { key: 'after-1', value: scenario.event('after-1', (fields) => `{${fields}}`) },
      ], async ({ applicationId, deadLetter }) => {
        const afterKey = scenario.name === 'event-analytics' ? 'Type-after-1' : 'after-1';
        const deepKey = scenario.name === 'event-analytics' ? 'Type-deep-1' : 'deep-1';
        const keys = await waitForKey(applicationId, scenario.store, afterKey);
        expect([...keys]).to.include(afterKey);
        expect([...keys], 'the deep event was processed').to.include(deepKey);
        expect(await readAll(deadLetter).catch(() => [])).to.have.length(0);
      });
    });
  }

  const big = (fields: string) => `{${fields}${fields ? ',' : ''}"blob":"${'x'.repeat(1_100_000)}"}`;
  for (const scenario of SCENARIOS.filter((s) => s.name === 'event-analytics' || s.name === 'user-projection')) {
    const where = scenario.name === 'event-analytics' ? 'its repartition topic' : "its store's changelog";
    it(`${scenario.name}: a 1.1 MB event that fits the input but not ${where} goes to the dead-letter topic, cut to fit, and the next is processed`, async () => {
      const original = scenario.event('big-1', big);
      await run(scenario, [
        { key: 'big-1', value: original },
        { key: 'after-2', value: scenario.event('after-2', (fields) => `{${fields}}`) },
      ], async ({ applicationId, deadLetter }) => {
        const afterKey = scenario.name === 'event-analytics' ? 'Type-after-2' : 'after-2';
        const keys = await waitForKey(applicationId, scenario.store, afterKey);
        expect([...keys]).to.include(afterKey);
        expect([...keys], 'the big event left nothing in the store').to.not.include(scenario.name === 'event-analytics' ? 'Type-big-1' : 'big-1');
        const [dead, ...more] = await waitForRecords(deadLetter, 1);
        expect(more).to.have.length(0);
        expect(dead!.key!.toString()).to.equal('big-1');
        expect(headerValue(dead!.headers, DeadLetterHeaders.errorClass)).to.equal('RecordTooLargeError');
        expect(headerValue(dead!.headers, DeadLetterHeaders.offset)).to.equal('0');
        expect(headerValue(dead!.headers, DeadLetterHeaders.truncated)).to.match(/^value:\d+>\d+$/);
        expect(dead!.value!.length).to.be.lessThan(1_000_000).and.greaterThan(900_000);
        expect(original.startsWith(dead!.value!.toString())).to.equal(true);
      });
    });
  }

  it('event-analytics: a zero-length value is dead-lettered as zero-length, not as a tombstone', async () => {
    await run(SCENARIOS[0]!, [
      { key: 'empty-1', value: Buffer.alloc(0) },
      { key: 'after-3', value: SCENARIOS[0]!.event('after-3', (fields) => `{${fields}}`) },
    ], async ({ applicationId, deadLetter }) => {
      await waitForKey(applicationId, 'event-counts', 'Type-after-3');
      const [dead] = await waitForRecords(deadLetter, 1);
      expect(dead!.value, 'value').to.be.instanceOf(Buffer);
      expect(dead!.value!.length).to.equal(0);
    });
  });

  it('media-lifecycle: a rejected record keeps a key that is not UTF-8 byte for byte', async () => {
    const key = Buffer.from([0xff, 0xfe, 0x80, 0x41]);
    await run(SCENARIOS[1]!, [
      { key, value: SCENARIOS[1]!.event('whatever', (fields) => `{${fields}}`) },
      { key: 'after-4', value: SCENARIOS[1]!.event('after-4', (fields) => `{${fields}}`) },
    ], async ({ applicationId, deadLetter }) => {
      await waitForKey(applicationId, 'media-items', 'after-4');
      const [rejected] = await waitForRecords(deadLetter, 1);
      expect(rejected!.key!.toString('hex')).to.equal('fffe8041');
    });
  });
});
