import { expect } from 'chai';
import { headerValue } from '../../engine/processors/processor.ts';
import { TestDriver } from 'sluice';
import definition, { ITEMS_STORE, MEDIA_TOPICS, mediaLifecycle, REJECTED, type MediaTopics } from '../../topologies/media-lifecycle.ts';
import { generateMediaEvents, type GeneratedRecord } from '../../topologies/lib/media-event-generator.ts';
import type { MediaEventType } from '../../topologies/lib/media-events.ts';
import { startApplication, waitForRecords } from '../helpers/app.ts';
import { createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { readChangelog, readStoreFromDisk, tempStateDir } from '../helpers/state.ts';

/** The state machine of docs/scenarios.md as a table: for each status (none: not created), what each event leads to. */
const NEXT: Record<string, Partial<Record<MediaEventType, string>>> = {
  none: { MediaItemCreated: 'CREATED' },
  CREATED: { MediaItemMetadataUpdated: 'CREATED', AnalysisStarted: 'ANALYZING', MediaItemDeleted: 'DELETED' },
  ANALYZING: { MediaItemMetadataUpdated: 'ANALYZING', AnalysisCompleted: 'ANALYZED', MediaItemDeleted: 'DELETED' },
  ANALYZED: { MediaItemMetadataUpdated: 'ANALYZED', AnalysisStarted: 'ANALYZING', MediaItemDeleted: 'DELETED' },
  DELETED: {},
};

/** What the topology must end with: each item's status and version, and which records are rejected. */
function model(records: GeneratedRecord[]) {
  const items = new Map<string, { status: string; version: number }>();
  const rejected: GeneratedRecord[] = [];
  for (const record of records) {
    if (!record.event) {
      rejected.push(record);
      continue;
    }
    const current = items.get(record.key);
    const next = NEXT[current?.status ?? 'none']![record.event.event_type];
    if (next === undefined) rejected.push(record);
    else items.set(record.key, { status: next, version: record.event.version });
  }
  return { items, rejected };
}

describe('topologies/media-lifecycle.ts', function () {
  this.timeout(180_000);

  for (const seed of [7, 42]) {
    it(`applies random interleavings of valid and impossible transitions as the state machine says (seed ${seed})`, async () => {
      const prefix = uniqueName('ml');
      const topics: MediaTopics = { input: `${prefix}-media-events`, rejected: `${prefix}-media-events-rejected` };
      await createTopic(topics.input, 3);
      await createTopic(topics.rejected, 3);
      const applicationId = `${prefix}-media-lifecycle`;
      const stateDir = tempStateDir();
      const records = generateMediaEvents(60, { eventsPerItem: 8, seed, malformedEvery: 9 });
      const expected = model(records);
      // The interleaving must exercise every kind of rejection, or the test proves little.
      const reasons = new Set(expected.rejected.map((r) => (r.event ? rejectionKind(r, records) : 'malformed')));
      expect([...reasons].sort()).to.deep.equal(['after deletion', 'before creation', 'impossible', 'malformed', 'second creation'].sort());

      const app = await startApplication({ ...definition, topology: (builder) => mediaLifecycle(builder, topics) }, { applicationId, stateDir });
      try {
        await produceRecords(topics.input, records.map((e) => ({ key: e.key, value: e.value.toString('latin1'), headers: e.headers })));
        const rejects = await waitForRecords(topics.rejected, expected.rejected.length);
        expect(rejects).to.have.length(expected.rejected.length);
        const rejectedBytes = new Set(expected.rejected.map((r) => r.value.toString('latin1')));
        for (const record of rejects) {
          expect(rejectedBytes.has(record.value!.toString('latin1')), `rejected original bytes of ${record.key}`).to.equal(true);
          expect(headerValue(record.headers, 'rejection_reason')).to.be.a('string').and.not.equal('');
          expect(headerValue(record.headers, 'correlation_id'), 'headers travel').to.be.a('string');
        }
        const reasonTexts = rejects.map((r) => headerValue(r.headers, 'rejection_reason')!);
        expect(reasonTexts.some((r) => r.endsWith('does not exist'))).to.equal(true);
        expect(reasonTexts.some((r) => r.endsWith('is deleted'))).to.equal(true);
        expect(reasonTexts.some((r) => r.includes('already exists'))).to.equal(true);
        expect(reasonTexts).to.include('the value is not valid JSON');
      } finally {
        await app.close();
      }

      const stored = await readStoreFromDisk(stateDir, applicationId, ITEMS_STORE);
      const logged = await readChangelog(`${applicationId}-${ITEMS_STORE}-changelog`);
      expect(stored.size).to.equal(expected.items.size);
      for (const [mediaId, want] of expected.items) {
        const item = JSON.parse(stored.get(mediaId)!);
        expect({ status: item.status, version: item.version }, mediaId).to.deep.equal(want);
        expect(item.media_id).to.equal(mediaId);
        expect(JSON.parse(logged.get(mediaId)!), `changelog of ${mediaId}`).to.deep.equal(item);
      }
    });
  }

  it('keeps the contract names by default and shows its store in describe', () => {
    expect(REJECTED).to.equal('media-events-rejected');
    expect(ITEMS_STORE).to.equal('media-items');
    expect(definition.applicationId).to.equal('media-lifecycle');
  });
});

describe('topologies/media-lifecycle.ts under the TestDriver (no broker)', () => {
  it('follows the state machine on many random interleavings (seeds 1 to 25), each item and each rejection as the model says', async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const records = generateMediaEvents(40, { eventsPerItem: 8, seed, malformedEvery: 9 });
      const expected = model(records);
      const driver = await TestDriver.create(definition);
      try {
        // As a producer sends them, bytes and headers untouched; processed as one batch.
        await driver.write(records.map((r) => ({ topic: MEDIA_TOPICS.input, key: Buffer.from(r.key), value: r.value, headers: r.headers })));
        const items = await driver.store<string, { status: string; version: number }>(ITEMS_STORE).all();
        expect(new Map(items.map(([id, item]) => [id, { status: item.status, version: item.version }])), `items (seed ${seed})`).to.deep.equal(expected.items);
        const rejects = driver.outputTopic(REJECTED).readRaw();
        expect(rejects.map((r) => r.value!.toString('latin1')), `rejected records, in order (seed ${seed})`).to.deep.equal(expected.rejected.map((r) => r.value.toString('latin1')));
        for (const r of rejects) expect(headerValue(r.headers, 'rejection_reason'), `a reason (seed ${seed})`).to.be.a('string').and.not.equal('');
      } finally {
        await driver.close();
      }
    }
  });
});

/** Classifies why the model rejects a well-formed event, to check the generator covers each kind. */
function rejectionKind(record: GeneratedRecord, records: GeneratedRecord[]): string {
  const before = records.slice(0, records.indexOf(record));
  const status = model(before).items.get(record.key)?.status;
  if (status === undefined) return 'before creation';
  if (status === 'DELETED') return 'after deletion';
  if (record.event!.event_type === 'MediaItemCreated') return 'second creation';
  return 'impossible';
}
