/**
 * Media lifecycle: validates every record of `media-events` and applies each event to its item
 * in the `media-items` store (media id → `{media_id, status, version, …}`) through the state
 * machine in `media-events.ts`. Malformed records and impossible transitions go to
 * `media-events-rejected` with their original bytes and the reason in the `rejection_reason`
 * header; the item is left as it was.
 */
import { defineApplication, Serdes, type ProcessorSupplier, type StreamsBuilder } from 'sluice';
import type { Checked } from './lib/envelope.ts';
import { applyMediaEvent, checkMediaEvent, type MediaEvent, type MediaItem } from './lib/media-events.ts';

/** The topics and store the topology uses; the defaults are the contract names. */
export interface MediaTopics {
  input: string;
  rejected: string;
}

export const MEDIA_TOPICS: MediaTopics = { input: 'media-events', rejected: 'media-events-rejected' };
export const INPUT = MEDIA_TOPICS.input;
export const REJECTED = MEDIA_TOPICS.rejected;
export const ITEMS_STORE = 'media-items';

/** A record that goes to the rejected topic: its original bytes and why. */
interface Rejection {
  reason: string;
  raw: Buffer;
}

/** Applies valid events to the store; forwards only what is rejected. */
const lifecycle: ProcessorSupplier<Buffer | null, Checked<MediaEvent>, Buffer | null, Rejection> = ({ stores, next, context }) => {
  const items = stores.get<string, MediaItem>(ITEMS_STORE);
  return (key, checked) => {
    if (!checked.ok) return next(key, { reason: checked.reason, raw: checked.raw } satisfies Rejection);
    const mediaId = checked.event.aggregate_id;
    const outcome = applyMediaEvent(items.get(mediaId), checked.event);
    if ('rejected' in outcome) return next(key, { reason: outcome.rejected, raw: checked.raw } satisfies Rejection);
    items.put(mediaId, outcome.item, { timestamp: context.timestamp, headers: context.headers });
  };
};

export function mediaLifecycle(builder: StreamsBuilder, topics: MediaTopics = MEDIA_TOPICS): void {
  // Keyed by media id, which is the record key (checkMediaEvent makes sure): lookups ask one partition.
  builder.addStateStore({ name: ITEMS_STORE, key: Serdes.string(), value: Serdes.json<MediaItem>(), partitionedByKey: true });
  builder
    // Keys as bytes: a rejected record keeps its key byte for byte, UTF-8 or not.
    .stream<Buffer, Buffer>(topics.input, { name: 'media-events', key: Serdes.bytes(), value: Serdes.bytes() })
    .mapValues((raw, key) => checkMediaEvent(key === null ? null : key.toString('utf8'), raw), { name: 'validate' })
    .process(lifecycle, { name: 'lifecycle', stores: [ITEMS_STORE] })
    .withHeaders((_, rejection, context) => [...(context.headers ?? []), { rejection_reason: rejection.reason }], { name: 'reason' })
    .mapValues((rejection) => rejection.raw, { name: 'original-bytes' })
    .to(topics.rejected, { name: 'rejected', key: Serdes.bytes(), value: Serdes.bytes() });
}

export default defineApplication({
  applicationId: 'media-lifecycle',
  keySerde: Serdes.string(),
  // A record no operator can process (too large, say) is rejected with its original bytes too.
  onProcessingError: { deadLetterTopic: MEDIA_TOPICS.rejected },
  topology: (builder) => mediaLifecycle(builder),
});
