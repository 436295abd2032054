import { randomUUID } from 'node:crypto';
import type { RecordHeader } from 'sluice';
import { MEDIA_EVENT_TYPES, type MediaEvent, type MediaEventType } from './media-events.ts';
import { seededRandom } from './seeded-random.ts';

/** One record for `media-events`, as a producer would write it. */
export interface GeneratedRecord {
  key: string;
  value: Buffer;
  headers: RecordHeader[];
  /** The event, when the record is a well-formed one. */
  event?: MediaEvent;
  description: string;
}

export interface GeneratorOptions {
  /** Events per item. Default 6. */
  eventsPerItem?: number;
  /** A malformed record after every this many events (0: none). Default 7. */
  malformedEvery?: number;
  /** Seed of the random choices, so a failing run can be replayed. Default 1. */
  seed?: number;
  /**
   * The chance that an item's next event is the one its lifecycle expects rather than a random
   * type (which is often an impossible transition). Default 0.6.
   */
  orderly?: number;
}

const LIFECYCLE: MediaEventType[] = ['MediaItemCreated', 'MediaItemMetadataUpdated', 'AnalysisStarted', 'AnalysisCompleted', 'MediaItemDeleted'];

/**
 * Media events for `items` media items, interleaved at random across items. Each item's events
 * mostly follow its lifecycle, with random event types mixed in (impossible transitions:
 * events before creation, a second creation, events after deletion) and malformed records in
 * between. Versions grow per item, so each item's events are in order.
 */
export function generateMediaEvents(items: number, options: GeneratorOptions = {}): GeneratedRecord[] {
  const perItem = options.eventsPerItem ?? 6;
  const malformedEvery = options.malformedEvery ?? 7;
  const orderly = options.orderly ?? 0.6;
  const random = seededRandom(options.seed ?? 1);
  const queues = Array.from({ length: items }, (_, i) => ({
    mediaId: `media-${String(i + 1).padStart(4, '0')}`,
    sent: 0,
    step: 0,
    correlation: randomUUID(),
    previous: null as string | null,
  }));
  const records: GeneratedRecord[] = [];
  let events = 0;
  let malformedCount = 0;
  const open = () => queues.filter((q) => q.sent < perItem);
  for (let pending = open(); pending.length > 0; pending = open()) {
    const q = pending[Math.floor(random() * pending.length)]!;
    const type = random() < orderly ? LIFECYCLE[Math.min(q.step, LIFECYCLE.length - 1)]! : MEDIA_EVENT_TYPES[Math.floor(random() * MEDIA_EVENT_TYPES.length)]!;
    if (type === LIFECYCLE[q.step]) q.step++;
    const event: MediaEvent = {
      event_id: randomUUID(),
      event_type: type,
      aggregate_type: 'MediaItem',
      aggregate_id: q.mediaId,
      version: ++q.sent,
      timestamp: new Date(Date.UTC(2026, 10, 22, 12, 0, 0, records.length)).toISOString(),
      correlation_id: q.correlation,
      causation_id: q.previous,
      data: dataFor(type, q.mediaId, q.sent),
    };
    const headers: RecordHeader[] = [{ correlation_id: q.correlation }, ...(q.previous ? [{ causation_id: q.previous }] : [])];
    records.push({ key: q.mediaId, value: Buffer.from(JSON.stringify(event)), headers, event, description: `${q.mediaId} ${type} v${event.version}` });
    q.previous = event.event_id;
    if (malformedEvery > 0 && ++events % malformedEvery === 0) records.push(malformed(malformedCount++, q.mediaId));
  }
  return records;
}

function dataFor(type: MediaEventType, mediaId: string, version: number): Record<string, unknown> {
  if (type === 'MediaItemCreated') return { title: `Clip ${mediaId}`, content_type: 'video/mp4' };
  if (type === 'MediaItemMetadataUpdated') return { title: `Clip ${mediaId} (v${version})` };
  if (type === 'AnalysisCompleted') return { labels: ['outdoor'], duration_s: version * 10 };
  return {};
}

function malformed(n: number, mediaId: string): GeneratedRecord {
  const kinds = [
    { value: '{"event_type": "MediaItemCreated", "aggregate_id": ', description: 'truncated JSON' },
    { value: JSON.stringify({ event_id: randomUUID(), event_type: 'MediaItemExploded', aggregate_id: mediaId }), description: 'unknown event type' },
    { value: JSON.stringify({ event_id: 'not-a-uuid', event_type: 'AnalysisStarted', aggregate_id: mediaId }), description: 'bad event_id' },
  ];
  const kind = kinds[n % kinds.length]!;
  return { key: mediaId, value: Buffer.from(kind.value), headers: [{ correlation_id: randomUUID() }], description: `${mediaId} malformed (${kind.description})` };
}
