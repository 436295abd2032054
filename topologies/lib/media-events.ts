/**
 * The media lifecycle's events and its state machine (docs/scenarios.md, "Media lifecycle"): the
 * five event types, the item each media id has in `media-items`, and the transition each event
 * makes.
 */
import { checkEnvelope, type Checked, type EventEnvelope } from './envelope.ts';

export const MEDIA_EVENT_TYPES = [
  'MediaItemCreated',
  'MediaItemMetadataUpdated',
  'AnalysisStarted',
  'AnalysisCompleted',
  'MediaItemDeleted',
] as const;

export type MediaEventType = (typeof MEDIA_EVENT_TYPES)[number];

/** A media event; `aggregate_id` is the media id and the record key. */
export type MediaEvent = EventEnvelope<MediaEventType>;

export type MediaStatus = 'CREATED' | 'ANALYZING' | 'ANALYZED' | 'DELETED';

/** A media item as `media-items` keeps it. */
export interface MediaItem {
  media_id: string;
  status: MediaStatus;
  /** The version of the last event applied. */
  version: number;
  /** The item's metadata: the data of its creation, updated by each metadata event. */
  metadata: Record<string, unknown>;
  /** The data of the last completed analysis. */
  analysis?: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  last_event_id: string;
}

export function checkMediaEvent(key: string | null, raw: Buffer | null): Checked<MediaEvent> {
  return checkEnvelope(key, raw, MEDIA_EVENT_TYPES);
}

/**
 * Applies one event to an item (undefined: not created yet). `MediaItemCreated` makes a new
 * item CREATED; `AnalysisStarted` moves CREATED or ANALYZED to ANALYZING; `AnalysisCompleted`
 * moves ANALYZING to ANALYZED; `MediaItemMetadataUpdated` keeps the status of a live item;
 * `MediaItemDeleted` moves any live item to DELETED. Anything else is rejected with the reason
 * and the item stays as it was.
 */
export function applyMediaEvent(item: MediaItem | undefined, event: MediaEvent): { item: MediaItem } | { rejected: string } {
  const type = event.event_type;
  const touch = (changes: Partial<MediaItem>): { item: MediaItem } => ({
    item: { ...item!, ...changes, version: event.version, updated_at: event.timestamp, last_event_id: event.event_id },
  });
  if (type === 'MediaItemCreated') {
    if (item) return { rejected: `${type}: media item ${event.aggregate_id} already exists (${item.status})` };
    return {
      item: {
        media_id: event.aggregate_id,
        status: 'CREATED',
        version: event.version,
        metadata: { ...event.data },
        created_at: event.timestamp,
        updated_at: event.timestamp,
        last_event_id: event.event_id,
      },
    };
  }
  if (!item) return { rejected: `${type}: media item ${event.aggregate_id} does not exist` };
  if (item.status === 'DELETED') return { rejected: `${type}: media item ${event.aggregate_id} is deleted` };
  switch (type) {
    case 'MediaItemMetadataUpdated':
      return touch({ metadata: { ...item.metadata, ...event.data } });
    case 'AnalysisStarted':
      if (item.status !== 'CREATED' && item.status !== 'ANALYZED') return { rejected: `${type}: media item ${event.aggregate_id} is ${item.status}` };
      return touch({ status: 'ANALYZING' });
    case 'AnalysisCompleted':
      if (item.status !== 'ANALYZING') return { rejected: `${type}: media item ${event.aggregate_id} is ${item.status}, not ANALYZING` };
      return touch({ status: 'ANALYZED', analysis: { ...event.data } });
    case 'MediaItemDeleted':
      return touch({ status: 'DELETED' });
  }
}
