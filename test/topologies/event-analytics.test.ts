import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { DeadLetterHeaders } from '../../engine/runtime/record-errors.ts';
import { headerValue } from '../../engine/processors/processor.ts';
import definition, { COUNTS_STORE, eventAnalytics, type AnalyticsTopics } from '../../topologies/event-analytics.ts';
import { startApplication, waitForRecords } from '../helpers/app.ts';
import { createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { readChangelog, readStoreFromDisk, tempStateDir } from '../helpers/state.ts';

const TYPES = ['PageViewed', 'ItemAddedToCart', 'CheckoutStarted', 'OrderPlaced', 'SearchPerformed', 'UserSignedUp'];

describe('topologies/event-analytics.ts', function () {
  this.timeout(180_000);

  it('counts events by type across partitions, and sends what is not an envelope to the dead-letter topic', async () => {
    const prefix = uniqueName('ea');
    const topics: AnalyticsTopics = { input: `${prefix}-events`, deadLetter: `${prefix}-events-dead-letter` };
    await createTopic(topics.input, 4);
    const applicationId = `${prefix}-event-analytics`;
    const stateDir = tempStateDir();
    const truth = new Map<string, number>();
    const records: Array<{ key: string; value: string }> = [];
    const malformed: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      // A skewed mix: low type indexes are much more frequent.
      const type = TYPES[Math.floor(TYPES.length * Math.random() ** 2)]!;
      const aggregate = `user-${i % 700}`;
      truth.set(type, (truth.get(type) ?? 0) + 1);
      const event = {
        event_id: randomUUID(),
        event_type: type,
        aggregate_type: 'User',
        aggregate_id: aggregate,
        version: Math.floor(i / 700) + 1,
        timestamp: new Date(Date.UTC(2026, 10, 22, 12, 0, 0, i)).toISOString(),
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

    const app = await startApplication({ ...definition, topology: (builder) => eventAnalytics(builder, topics) }, { applicationId, stateDir });
    try {
      expect(app.topology.internalTopics.map((t) => t.name).sort()).to.deep.equal(
        [`${applicationId}-${COUNTS_STORE}-changelog`, `${applicationId}-${COUNTS_STORE}-repartition`].sort(),
      );
      await produceRecords(topics.input, records);
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
