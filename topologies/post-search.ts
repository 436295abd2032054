/**
 * Post search projection: keeps the latest state of every post of `post-events` in the `posts`
 * store (post_id → the post, schemas/post.avsc), for search to read by key or by prefix over
 * the query server. `post.created` carries the whole post, `post.updated` the fields that
 * changed, `post.deleted` marks the post deleted (kept as a marker, so a stale event arriving
 * later cannot bring it back). An event whose version is not newer than the post's is stale and
 * ignored, so redelivery and reordering never roll a post back; applying the same log again
 * gives the same posts. Records that are not valid post events go to `post-events-dead-letter`.
 */
import { defineApplication, Serdes, type StreamsBuilder, type Table } from 'sluice';
import { checkAggregateEvent, type EventEnvelope, extraFields } from './lib/envelope.ts';

export const POST_EVENT_TYPES = ['post.created', 'post.updated', 'post.deleted'] as const;
export type PostEvent = EventEnvelope<(typeof POST_EVENT_TYPES)[number]>;

/** What the `posts` store keeps per post. */
export interface Post {
  post_id: string;
  version: number;
  title: string;
  content: string | null;
  author_id: string;
  artist_id: string | null;
  slug: string | null;
  tags: string[];
  /** The data's other fields: name → value as JSON text. */
  extra: Record<string, string>;
  deleted: boolean;
  created_at: string;
  updated_at: string;
  last_event_id: string;
}

export interface PostTopics {
  input: string;
  deadLetter: string;
}

export const POST_TOPICS: PostTopics = { input: 'post-events', deadLetter: 'post-events-dead-letter' };
export const POSTS_STORE = 'posts';

const KNOWN = new Set(['post_id', 'title', 'content', 'author_id', 'artist_id', 'slug', 'tags', 'created_at']);

/** Thrown for a record that is not a post event; the record goes to the dead-letter topic. */
export class InvalidPostEventError extends Error {
  override name = 'InvalidPostEventError';
}

/** Checks a record as a post event: an envelope of a known type whose data names the post. */
export function toPostEvent(key: string | null, raw: Buffer | null): PostEvent {
  const event = checkAggregateEvent(key, raw, POST_EVENT_TYPES, 'post_id', (reason) => new InvalidPostEventError(reason));
  if (event.event_type === 'post.created' && (typeof event.data.title !== 'string' || typeof event.data.author_id !== 'string')) {
    throw new InvalidPostEventError('post.created needs data.title and data.author_id');
  }
  return event;
}

const extraOf = (data: Record<string, unknown>, base: Record<string, string>) => extraFields(data, KNOWN, base);

const orNull = (value: unknown) => (typeof value === 'string' ? value : null);

/** Folds one event into the post: the projection's `apply`. An update of an unknown post is ignored. */
export function applyPostEvent(post: Post | null, event: PostEvent): Post | null {
  const data = event.data as Record<string, unknown>;
  const stamp = { version: event.version, updated_at: event.timestamp, last_event_id: event.event_id };
  switch (event.event_type) {
    case 'post.created':
      return {
        post_id: event.aggregate_id,
        title: data.title as string,
        content: orNull(data.content),
        author_id: data.author_id as string,
        artist_id: orNull(data.artist_id),
        slug: orNull(data.slug),
        tags: Array.isArray(data.tags) ? data.tags.map(String) : [],
        extra: extraOf(data, {}),
        deleted: false,
        created_at: orNull(data.created_at) ?? event.timestamp,
        ...stamp,
      };
    case 'post.updated': {
      if (post === null) return null;
      const changed = (field: string) => data[field] !== undefined && data[field] !== null;
      return {
        ...post,
        ...(changed('title') ? { title: String(data.title) } : {}),
        ...(changed('content') ? { content: String(data.content) } : {}),
        ...(changed('artist_id') ? { artist_id: String(data.artist_id) } : {}),
        ...(changed('slug') ? { slug: String(data.slug) } : {}),
        ...(Array.isArray(data.tags) ? { tags: data.tags.map(String) } : {}),
        extra: extraOf(data, post.extra),
        ...stamp,
      };
    }
    case 'post.deleted':
      return post === null ? null : { ...post, deleted: true, ...stamp };
  }
}

/** Builds the projection and returns its table of posts (the `posts` store). */
export function postSearch(builder: StreamsBuilder, topics: PostTopics = POST_TOPICS): Table<string, Post> {
  return builder
    .stream<string, Buffer>(topics.input, { name: 'post-events', value: Serdes.bytes() })
    .mapValues((raw, key) => toPostEvent(key, raw), { name: 'validate-posts', onError: { deadLetterTopic: topics.deadLetter } })
    .project<Post>({
      name: 'project-posts',
      store: POSTS_STORE,
      apply: (post, event) => applyPostEvent(post, event),
      // Stale: not newer than the post (deleted posts keep their version, so they stay deleted).
      version: { event: (event) => event.version, view: (post) => post.version, mode: 'newer' },
    });
}

export default defineApplication({
  applicationId: 'post-search',
  keySerde: Serdes.string(),
  onProcessingError: { deadLetterTopic: POST_TOPICS.deadLetter },
  topology: (builder) => postSearch(builder),
});
