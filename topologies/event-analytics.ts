/**
 * Event analytics: counts the events of `events` by type into the `event-counts` store
 * (event_type → total count, a JSON number), and per type and minute of event time (the
 * envelope's `timestamp`) into the windowed store `event-rates`: one-minute tumbling windows, 30 s
 * of grace, final results only, written to `event-rates-per-minute` once each minute closes.
 * Events are keyed by aggregate id, so they are regrouped by type through repartition topics. A
 * record that is not a valid envelope goes to `events-dead-letter` with its original bytes and
 * the reason (`sluice.error.message`).
 */
import { defineApplication, Serdes, TimeWindows, type ExtractableRecord, type StreamsBuilder } from 'sluice';
import { checkEnvelope, type EventEnvelope } from './lib/envelope.ts';

export interface AnalyticsTopics {
  input: string;
  deadLetter: string;
  /** Final counts per event type and minute; keys in Kafka Streams' windowed format (type bytes, then the minute's start as 8 bytes). */
  rates: string;
}

/** The contract's topics; `EVENTS_TOPIC`, `EVENTS_DEAD_LETTER_TOPIC` and `EVENT_RATES_TOPIC` rename them for a deployment. */
export const ANALYTICS_TOPICS: AnalyticsTopics = {
  input: process.env.EVENTS_TOPIC ?? 'events',
  deadLetter: process.env.EVENTS_DEAD_LETTER_TOPIC ?? 'events-dead-letter',
  rates: process.env.EVENT_RATES_TOPIC ?? 'event-rates-per-minute',
};
export const COUNTS_STORE = 'event-counts';
export const RATES_STORE = 'event-rates';
export const RATE_WINDOW = TimeWindows.ofSizeAndGrace(60_000, 30_000);

/**
 * An event's time: its envelope's `timestamp`, or the record's own when the record is not an
 * envelope (it is sent to the dead-letter topic by the validation that follows, with the reason).
 */
export function envelopeTime(record: ExtractableRecord<string, Buffer>): number {
  try {
    const parsed = JSON.parse(record.value.toString('utf8')) as { timestamp?: unknown };
    const time = typeof parsed.timestamp === 'string' ? Date.parse(parsed.timestamp) : Number.NaN;
    return Number.isFinite(time) && time >= 0 ? time : record.timestamp;
  } catch {
    return record.timestamp;
  }
}

/** Thrown for a record that is not an event envelope; the record goes to the dead-letter topic. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

export function eventAnalytics(builder: StreamsBuilder, topics: AnalyticsTopics = ANALYTICS_TOPICS): void {
  const events = builder
    .stream<string, Buffer>(topics.input, { name: 'events', value: Serdes.bytes(), timestampExtractor: envelopeTime })
    .mapValues(
      (raw, key) => {
        const checked = checkEnvelope(key, raw);
        if (!checked.ok) throw new InvalidEventError(checked.reason);
        return checked.event;
      },
      { name: 'validate', onError: { deadLetterTopic: topics.deadLetter } },
    );
  // One repartition by type (<application>-event-counts-repartition) feeds both aggregations.
  const byType = events.groupBy((_, event: EventEnvelope) => event.event_type, { name: 'by-type', key: Serdes.string(), value: Serdes.json() });
  byType.count({ name: COUNTS_STORE });
  byType
    .windowedBy(RATE_WINDOW)
    // Kept a day, for dashboards asking /v1/stores/event-rates/windows?key=<type>&from=&to=.
    .count({ name: RATES_STORE, emit: 'final', retentionMs: 24 * 60 * 60_000 })
    .toStream({ name: 'rates' })
    .to(topics.rates, { name: 'rates-out', value: Serdes.json() });
}

export default defineApplication({
  applicationId: 'event-analytics',
  keySerde: Serdes.string(),
  // Any record an operator cannot process (too large, say) goes there too, rather than stopping it.
  onProcessingError: { deadLetterTopic: ANALYTICS_TOPICS.deadLetter },
  topology: (builder) => eventAnalytics(builder),
});
