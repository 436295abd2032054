import { randomUUID } from 'node:crypto';
import type { RecordHeader } from 'sluice';
import type { MediaEvent, MediaEventType } from './media-events.ts';

/** One record for `media-events`, as a producer would write it. */
export interface GeneratedRecord {
  key: string;
  value: Buffer;
  headers: RecordHeader[];
  /** What the topology should do with it: the topic it should land in. */
  expected: string;
  description: string;
}

const LIFECYCLE: MediaEventType[] = ['MediaItemCreated', 'MediaItemMetadataUpdated', 'AnalysisStarted', 'AnalysisCompleted', 'MediaItemDeleted'];

/**
 * Media events for `items` media items, each item's events in lifecycle order (interleaved
 * across items), with a malformed record after every `malformedEvery` valid ones.
 */
export function generateMediaEvents(items: number, routes: Record<MediaEventType, string>, rejected: string, malformedEvery = 7): GeneratedRecord[] {
  const queues = Array.from({ length: items }, (_, i) => ({ mediaId: `media-${String(i + 1).padStart(4, '0')}`, step: 0, correlation: randomUUID(), previous: null as string | null }));
  const records: GeneratedRecord[] = [];
  let valid = 0;
  let malformedCount = 0;
  let turn = 0;
  while (queues.some((q) => q.step < LIFECYCLE.length)) {
    const q = queues[turn++ % queues.length]!;
    if (q.step >= LIFECYCLE.length) continue;
    const type = LIFECYCLE[q.step]!;
    const event: MediaEvent = {
      event_id: randomUUID(),
      event_type: type,
      aggregate_type: 'MediaItem',
      aggregate_id: q.mediaId,
      version: q.step + 1,
      timestamp: new Date(Date.UTC(2026, 10, 22, 12, 0, records.length)).toISOString(),
      correlation_id: q.correlation,
      causation_id: q.previous,
      data: type === 'MediaItemMetadataUpdated' ? { title: `Clip ${q.mediaId}` } : {},
    };
    const headers: RecordHeader[] = [{ correlation_id: q.correlation }, ...(q.previous ? [{ causation_id: q.previous }] : [])];
    records.push({ key: q.mediaId, value: Buffer.from(JSON.stringify(event)), headers, expected: routes[type], description: `${q.mediaId} ${type} v${event.version}` });
    q.previous = event.event_id;
    q.step++;
    if (++valid % malformedEvery === 0) records.push(malformed(malformedCount++, q.mediaId, rejected));
  }
  return records;
}

function malformed(n: number, mediaId: string, rejected: string): GeneratedRecord {
  const kinds = [
    { value: '{"event_type": "MediaItemCreated", "aggregate_id": ', description: 'truncated JSON' },
    { value: JSON.stringify({ event_id: randomUUID(), event_type: 'MediaItemExploded', aggregate_id: mediaId }), description: 'unknown event type' },
    { value: JSON.stringify({ event_id: 'not-a-uuid', event_type: 'AnalysisStarted', aggregate_id: mediaId }), description: 'bad event_id' },
  ];
  const kind = kinds[n % kinds.length]!;
  return { key: mediaId, value: Buffer.from(kind.value), headers: [{ correlation_id: randomUUID() }], expected: rejected, description: `${mediaId} malformed (${kind.description})` };
}
