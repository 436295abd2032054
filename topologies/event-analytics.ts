/**
 * Event analytics: counts the events of `events` by type into the `event-counts` store
 * (event_type → total count, a JSON number). Events are keyed by aggregate id, so they are
 * regrouped by type through a repartition topic. A record that is not a valid envelope goes to
 * `events-dead-letter` with its original bytes and the reason (`sluice.error.message`).
 */
import { defineApplication, Serdes, type StreamsBuilder } from 'sluice';
import { checkEnvelope, type EventEnvelope } from './lib/envelope.ts';

export interface AnalyticsTopics {
  input: string;
  deadLetter: string;
}

/** The contract's topics; `EVENTS_TOPIC` and `EVENTS_DEAD_LETTER_TOPIC` rename them for a deployment. */
export const ANALYTICS_TOPICS: AnalyticsTopics = {
  input: process.env.EVENTS_TOPIC ?? 'events',
  deadLetter: process.env.EVENTS_DEAD_LETTER_TOPIC ?? 'events-dead-letter',
};
export const COUNTS_STORE = 'event-counts';

/** Thrown for a record that is not an event envelope; the record goes to the dead-letter topic. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

export function eventAnalytics(builder: StreamsBuilder, topics: AnalyticsTopics = ANALYTICS_TOPICS): void {
  builder
    .stream<string, Buffer>(topics.input, { name: 'events', value: Serdes.bytes() })
    .mapValues(
      (raw, key) => {
        const checked = checkEnvelope(key, raw);
        if (!checked.ok) throw new InvalidEventError(checked.reason);
        return checked.event;
      },
      { name: 'validate', onError: { deadLetterTopic: topics.deadLetter } },
    )
    .groupBy((_, event: EventEnvelope) => event.event_type, { name: 'by-type', key: Serdes.string(), value: Serdes.json() })
    .count({ name: COUNTS_STORE });
}

export default defineApplication({
  applicationId: 'event-analytics',
  keySerde: Serdes.string(),
  // Any record an operator cannot process (too large, say) goes there too, rather than stopping it.
  onProcessingError: { deadLetterTopic: ANALYTICS_TOPICS.deadLetter },
  topology: (builder) => eventAnalytics(builder),
});
