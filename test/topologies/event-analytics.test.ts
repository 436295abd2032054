import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { DeadLetterHeaders } from '../../engine/runtime/record-errors.ts';
import { headerValue } from '../../engine/processors/processor.ts';
import definition, { COUNTS_STORE, eventAnalytics, RATES_STORE, type AnalyticsTopics } from '../../topologies/event-analytics.ts';
import { Serdes, type Windowed } from '../../engine/index.ts';
import { startApplication, waitForRecords } from '../helpers/app.ts';
import { RECENT_HOUR, createTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { readChangelog, readStoreFromDisk, tempStateDir } from '../helpers/state.ts';

const TYPES = ['PageViewed', 'ItemAddedToCart', 'CheckoutStarted', 'OrderPlaced', 'SearchPerformed', 'UserSignedUp'];

describe('topologies/event-analytics.ts', function () {
  this.timeout(180_000);

  it('counts events by type, and per type and minute of event time, across partitions, and sends what is not an envelope to the dead-letter topic', async () => {
    const prefix = uniqueName('ea');
    const topics: AnalyticsTopics = { input: `${prefix}-events`, deadLetter: `${prefix}-events-dead-letter`, rates: `${prefix}-event-rates` };
    await createTopic(topics.input, 4);
    const applicationId = `${prefix}-event-analytics`;
    const stateDir = tempStateDir();
    const truth = new Map<string, number>();
    const perMinute = new Map<string, number>();
    const chunks: Array<{ records: Array<{ key: string; value: string }>; valid: number }> = [];
    const start = RECENT_HOUR;
    const malformed: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      // A skewed mix: low type indexes are much more frequent.
      const type = TYPES[Math.floor(TYPES.length * Math.random() ** 2)]!;
      const aggregate = `user-${i % 700}`;
      truth.set(type, (truth.get(type) ?? 0) + 1);
      const minuteOf = Math.floor((i * 12) / 60_000);
      const minute = `${type}@${minuteOf}`;
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
      chunks[minuteOf] ??= { records: [], valid: 0 };
      const records = chunks[minuteOf]!.records;
      chunks[minuteOf]!.valid++;
      const event = {
        event_id: randomUUID(),
        event_type: type,
        aggregate_type: 'User',
        aggregate_id: aggregate,
        version: Math.floor(i / 700) + 1,
        // 20,000 events over 4 minutes of event time, the record timestamps left to the producer.
        timestamp: new Date(start + i * 12).toISOString(),
        correlation_id: randomUUID(),
        causation_id: null,
        data: { n: i },
      };
      records.push({ key: aggregate, value: JSON.stringify(event) });
      if (i % 1000 === 0) {
        const bad = i % 2000 === 0 ? `{"event_type": "PageViewed", "n": ${i}` : JSON.stringify({ ...event, event_id: randomUUID(), event_type: '' });
        malformed.push(bad);
        records.push({ key: aggregate, value: bad });
      }
    }
    // An event of each type 10 minutes on closes every minute before it (stream time moves per
    // partition of the repartition topic, and each type lives in one).
    const closing = TYPES.map((type) => ({ key: 'user-0', value: JSON.stringify({ event_id: randomUUID(), event_type: type, aggregate_type: 'User', aggregate_id: 'user-0', version: 99, timestamp: new Date(start + 10 * 60_000).toISOString(), correlation_id: randomUUID(), causation_id: null, data: {} }) }));
    chunks.push({ records: closing, valid: closing.length });
    for (const type of TYPES) truth.set(type, (truth.get(type) ?? 0) + 1);

    const app = await startApplication({ ...definition, topology: (builder) => eventAnalytics(builder, topics) }, { applicationId, stateDir });
    try {
      expect(app.topology.internalTopics.map((t) => t.name).sort()).to.deep.equal(
        [COUNTS_STORE, RATES_STORE, `${RATES_STORE}-final`].map((s) => `${applicationId}-${s}-changelog`).concat([`${applicationId}-${COUNTS_STORE}-repartition`]).sort(),
      );
      // Minute by minute of event time, each processed before the next is written: records of
      // one partition are then never more than a minute ahead of another's, so none is later
      // than the 30 s grace allows (written at once, a whole partition could pass the others).
      const changelog = `${applicationId}-${COUNTS_STORE}-changelog`;
      let written = 0;
      for (const chunk of chunks) {
        await produceRecords(topics.input, chunk.records);
        written += chunk.valid;
        const chunkDeadline = Date.now() + 60_000;
        while (Date.now() < chunkDeadline) {
          const counted = [...(await readChangelog(changelog)).values()].reduce((n, v) => n + Number(v), 0);
          if (counted >= written) break;
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
      }
      const dead = await waitForRecords(topics.deadLetter, malformed.length);
      expect(dead.map((r) => r.value!.toString()).sort()).to.deep.equal([...malformed].sort());
      for (const r of dead) {
        expect(headerValue(r.headers, DeadLetterHeaders.operator)).to.equal('validate');
        expect(headerValue(r.headers, DeadLetterHeaders.errorMessage)).to.match(/not valid JSON|event_type must be/);
      }
      const deadline = Date.now() + 60_000;
      let logged = new Map<string, string>();
      while (Date.now() < deadline) {
        logged = await readChangelog(`${applicationId}-${COUNTS_STORE}-changelog`);
        if ([...truth].every(([type, n]) => Number(logged.get(type)) === n)) break;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(Object.fromEntries([...logged].map(([k, v]) => [k, Number(v)]))).to.deep.equal(Object.fromEntries(truth));
      // Once per type and minute, the minute's final count, keyed in Kafka Streams' windowed format.
      const windowed = Serdes.timeWindowed(Serdes.string(), 60_000);
      const finals = new Map<string, number>();
      const rateDeadline = Date.now() + 60_000;
      while (Date.now() < rateDeadline) {
        finals.clear();
        for (const r of await readAll(topics.rates)) {
          const key = windowed.deserialize(r.key, topics.rates) as Windowed<string>;
          const id = `${key.key}@${(key.window.start - start) / 60_000}`;
          expect(finals.has(id), `${id} sent once`).to.equal(false);
          finals.set(id, JSON.parse(r.value!.toString()));
        }
        if (finals.size >= perMinute.size) break;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(Object.fromEntries(finals)).to.deep.equal(Object.fromEntries(perMinute));
    } finally {
      await app.close();
    }
    const stored = await readStoreFromDisk(stateDir, applicationId, COUNTS_STORE);
    expect(Object.fromEntries([...stored].map(([k, v]) => [k, JSON.parse(v)]))).to.deep.equal(Object.fromEntries(truth));
  });

  it('keeps the contract names by default', () => {
    expect(definition.applicationId).to.equal('event-analytics');
    expect(COUNTS_STORE).to.equal('event-counts');
  });
});
