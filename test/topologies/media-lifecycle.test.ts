import { expect } from 'chai';
import { headerValue } from '../../engine/processors/processor.ts';
import definition, { mediaLifecycle, REJECTED, type MediaTopics } from '../../topologies/media-lifecycle.ts';
import { generateMediaEvents } from '../../topologies/media-event-generator.ts';
import { ROUTES, type MediaEventType } from '../../topologies/media-events.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';

describe('topologies/media-lifecycle.ts (stateless form)', function () {
  this.timeout(120_000);

  it('routes valid events by type in per-item order and rejects malformed ones with the reason', async () => {
    const prefix = uniqueName('ml');
    const topics: MediaTopics = {
      input: `${prefix}-media-events`,
      rejected: `${prefix}-media-events-rejected`,
      routes: Object.fromEntries(Object.entries(ROUTES).map(([type, topic]) => [type, `${prefix}-${topic}`])) as Record<MediaEventType, string>,
    };
    for (const topic of [topics.input, topics.rejected, ...Object.values(topics.routes)]) await createTopic(topic, 3);
    const app = await startApplication({ ...definition, topology: (builder) => mediaLifecycle(builder, topics) });
    try {
      const events = generateMediaEvents(8, topics.routes, topics.rejected, 5);
      await produceRecords(topics.input, events.map((e) => ({ key: e.key, value: e.value.toString('latin1'), headers: e.headers })));
      const expected = (topic: string) => events.filter((e) => e.expected === topic);

      for (const [type, topic] of Object.entries(topics.routes)) {
        const out = await waitForRecords(topic, expected(topic).length);
        expect(out, type).to.have.length(expected(topic).length);
        const versions = new Map<string, number>();
        for (const record of out) {
          const event = JSON.parse(text(record.value)!);
          expect(event.event_type).to.equal(type);
          expect(text(record.key)).to.equal(event.aggregate_id);
          expect(headerValue(record.headers, 'correlation_id')).to.equal(event.correlation_id);
          expect(event.version).to.be.greaterThan(versions.get(event.aggregate_id) ?? 0);
          versions.set(event.aggregate_id, event.version);
        }
      }

      const rejects = await waitForRecords(topics.rejected, expected(topics.rejected).length);
      expect(rejects).to.have.length(expected(topics.rejected).length);
      for (const record of rejects) {
        expect(expected(topics.rejected).some((e) => e.value.equals(record.value!)), 'original bytes').to.equal(true);
      }
      const reasons = rejects.map((r) => headerValue(r.headers, 'rejection_reason'));
      expect(reasons).to.include('the value is not valid JSON');
      expect(reasons.some((r) => r?.startsWith('event_type must be one of'))).to.equal(true);
      expect(reasons.some((r) => r === 'event_id must be a UUID')).to.equal(true);
    } finally {
      await app.close();
    }
  });

  it('keeps the contract topic names by default', () => {
    expect(REJECTED).to.equal('media-events-rejected');
    expect(ROUTES.AnalysisStarted).to.equal('media-analysis-started');
  });
});
