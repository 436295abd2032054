/**
 * Post indexer: sends every post event of `post-events` to a search service over HTTP, one call
 * per event through an async operator, and writes what became of each to `post-index-results`
 * (`{post_id, version, event_type, status}`). A post's events reach the service in their order
 * (the operator keeps each key in order), other posts' calls run beside them, 64 at a time per
 * task; a call that fails or takes over 10 s is tried again (5 attempts, back-off from 200 ms);
 * an event the service refused every time, or a record that is not a post event, goes to
 * `post-index-dead-letter` with its original bytes. The input is committed only once an event's
 * call finished, so a crash or a rebalance sends it again: the `Idempotency-Key` header (the
 * event's topic, partition and offset) and the event's version let the service ignore a repeat.
 *
 * The service (SEARCH_URL, default http://127.0.0.1:9200): `PUT /posts/<post_id>` with the
 * event as its body indexes the post (`post.created`, `post.updated`); `DELETE /posts/<post_id>`
 * with the event removes it (`post.deleted`). Any 2xx answer is success.
 */
import { defineApplication, Serdes, type StreamsBuilder } from 'sluice';
import { toPostEvent, type PostEvent } from './post-search.ts';

export interface PostIndexerTopics {
  input: string;
  results: string;
  deadLetter: string;
}

export const POST_INDEXER_TOPICS: PostIndexerTopics = { input: 'post-events', results: 'post-index-results', deadLetter: 'post-index-dead-letter' };

/** What the results topic says of each event. */
export interface IndexResult {
  post_id: string;
  version: number;
  event_type: PostEvent['event_type'];
  /** The service's HTTP status. */
  status: number;
}

/** Sends one post event to the search service; throws on an answer that is not 2xx, so that it is retried. */
export async function indexPostEvent(searchUrl: string, event: PostEvent, context: { signal: AbortSignal; idempotencyKey: string }): Promise<IndexResult> {
  const response = await fetch(`${searchUrl}/posts/${encodeURIComponent(event.aggregate_id)}`, {
    method: event.event_type === 'post.deleted' ? 'DELETE' : 'PUT',
    headers: { 'content-type': 'application/json', 'idempotency-key': context.idempotencyKey, 'x-correlation-id': event.correlation_id },
    body: JSON.stringify(event),
    signal: context.signal,
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`the search service answered ${response.status} for ${event.event_type} ${event.aggregate_id} v${event.version}`);
  return { post_id: event.aggregate_id, version: event.version, event_type: event.event_type, status: response.status };
}

export function postIndexer(builder: StreamsBuilder, searchUrl: string, topics: PostIndexerTopics = POST_INDEXER_TOPICS): void {
  builder
    .stream<string, Buffer>(topics.input, { name: 'post-events', value: Serdes.bytes() })
    .mapValues((raw, key) => toPostEvent(key, raw), { name: 'validate-post-events', onError: { deadLetterTopic: topics.deadLetter } })
    .mapValuesAsync((event, _postId, context) => indexPostEvent(searchUrl, event, context), {
      name: 'index-posts',
      concurrency: 64,
      timeoutMs: 10_000,
      retry: { attempts: 5, backoffMs: 200, maxBackoffMs: 5_000 },
      onError: { deadLetterTopic: topics.deadLetter },
    })
    .to(topics.results, { name: 'index-results', value: Serdes.json<IndexResult>() });
}

export default defineApplication({
  applicationId: 'post-indexer',
  keySerde: Serdes.string(),
  topology: (builder) => postIndexer(builder, process.env.SEARCH_URL ?? 'http://127.0.0.1:9200'),
});
