/**
 * Media lifecycle, first (stateless) form: validates every record of `media-events` and routes
 * each valid event, by type, to its own topic keyed by media id, so per-item order is kept;
 * malformed records go to `media-events-rejected` with their original bytes and the reason in
 * the `rejection_reason` header. (The lifecycle state machine over a `media-items` store comes
 * with state stores.)
 */
import { defineApplication, Serdes, type StreamsBuilder } from 'sluice';
import { checkMediaEvent, ROUTES, type CheckedMediaEvent, type MediaEventType } from './media-events.ts';

/** The topics the topology reads and writes; the defaults are the contract names. */
export interface MediaTopics {
  input: string;
  rejected: string;
  routes: Record<MediaEventType, string>;
}

export const MEDIA_TOPICS: MediaTopics = { input: 'media-events', rejected: 'media-events-rejected', routes: ROUTES };
export const INPUT = MEDIA_TOPICS.input;
export const REJECTED = MEDIA_TOPICS.rejected;

type Valid = Extract<CheckedMediaEvent, { ok: true }>;

export function mediaLifecycle(builder: StreamsBuilder, topics: MediaTopics = MEDIA_TOPICS): void {
  const checked = builder
    .stream<string, Buffer>(topics.input, { name: 'media-events', value: Serdes.bytes() })
    .mapValues((raw, key) => checkMediaEvent(key, raw), { name: 'validate' });

  const { valid, invalid } = checked
    .split({ name: 'route' })
    .branch('valid', (_, checked): checked is Valid => checked.ok)
    .defaultBranch('invalid');

  valid
    .mapValues((checked) => checked.event, { name: 'event' })
    .to((_, event) => topics.routes[event.event_type], { name: 'by-type', value: Serdes.json() });

  invalid
    .withHeaders((_, checked, context) => [...(context.headers ?? []), { rejection_reason: checked.ok ? '' : checked.reason }], {
      name: 'reason',
    })
    .mapValues((checked) => checked.raw, { name: 'original-bytes' })
    .to(topics.rejected, { name: 'rejected', value: Serdes.bytes() });
}

export default defineApplication({
  applicationId: 'media-lifecycle',
  keySerde: Serdes.string(),
  topology: (builder) => mediaLifecycle(builder),
});
