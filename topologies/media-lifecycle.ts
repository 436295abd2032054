/**
 * Media lifecycle, first (stateless) form: validates every record of `media-events` and routes
 * each valid event, by type, to its own topic keyed by media id, so per-item order is kept;
 * malformed records go to `media-events-rejected` with their original bytes and the reason in
 * the `rejection_reason` header. (The lifecycle state machine over a `media-items` store comes
 * with state stores.)
 */
import { defineApplication, Serdes } from 'sluice';
import { checkMediaEvent, ROUTES, type CheckedMediaEvent } from './media-events.ts';

export const INPUT = 'media-events';
export const REJECTED = 'media-events-rejected';

type Valid = Extract<CheckedMediaEvent, { ok: true }>;

export default defineApplication({
  applicationId: 'media-lifecycle',
  keySerde: Serdes.string(),
  topology: (builder) => {
    const checked = builder
      .stream<string, Buffer>(INPUT, { name: 'media-events', value: Serdes.bytes() })
      .mapValues((raw, key) => checkMediaEvent(key, raw), { name: 'validate' });

    const { valid, invalid } = checked
      .split({ name: 'route' })
      .branch('valid', (_, checked): checked is Valid => checked.ok)
      .defaultBranch('invalid');

    valid
      .mapValues((checked) => checked.event, { name: 'event' })
      .to((_, event) => ROUTES[event.event_type], { name: 'by-type', value: Serdes.json() });

    invalid
      .withHeaders(
        (_, checked, context) => [...(context.headers ?? []), { rejection_reason: checked.ok ? '' : checked.reason }],
        { name: 'reason' },
      )
      .mapValues((checked) => checked.raw, { name: 'original-bytes' })
      .to(REJECTED, { name: 'rejected', value: Serdes.bytes() });
  },
});
