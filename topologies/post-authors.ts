/**
 * Posts with their authors: the post-search projection (`posts`, from `post-events`) joined on
 * each post's `author_id` with the user projection (`users`, from `user-events`), a foreign-key
 * join, into the `posts-with-authors` store (for search pages that show who wrote a post) and the
 * compacted `posts-with-authors` topic. A post follows its author as the author changes name or
 * status; a post whose author is not known yet (its events not in) has `author: null` until they
 * come. The two event topics need not be co-partitioned. Records that are not valid events go to
 * `post-authors-dead-letter`.
 */
import { defineApplication, Serdes, type StreamsBuilder, type Table } from 'sluice';
import { type Post, postSearch, type PostTopics } from './post-search.ts';
import { type User, userProjection, type UserTopics } from './user-projection.ts';

/** What the `posts-with-authors` store keeps per post. */
export interface PostWithAuthor extends Post {
  author: { user_id: string; name: string; status: string } | null;
}

export interface PostAuthorTopics {
  posts: PostTopics;
  users: UserTopics;
  output: string;
}

export const POST_AUTHOR_TOPICS: PostAuthorTopics = {
  posts: { input: 'post-events', deadLetter: 'post-authors-dead-letter' },
  users: { input: 'user-events', deadLetter: 'post-authors-dead-letter' },
  output: 'posts-with-authors',
};
export const POSTS_WITH_AUTHORS_STORE = 'posts-with-authors';

/** A post and its author's public fields (null while the author is not known). */
export function withAuthor(post: Post, user: User | null): PostWithAuthor {
  return { ...post, author: user === null ? null : { user_id: user.user_id, name: user.name, status: user.status } };
}

export function postAuthors(builder: StreamsBuilder, topics: PostAuthorTopics = POST_AUTHOR_TOPICS): Table<string, PostWithAuthor> {
  const posts = postSearch(builder, topics.posts);
  const users = userProjection(builder, topics.users);
  const joined = posts.leftJoin(users, (post) => post.author_id, withAuthor, { name: 'post-authors', materialized: { name: POSTS_WITH_AUTHORS_STORE } });
  joined.toStream().to(topics.output);
  return joined;
}

export default defineApplication({
  applicationId: 'post-authors',
  keySerde: Serdes.string(),
  valueSerde: Serdes.json(),
  onProcessingError: { deadLetterTopic: POST_AUTHOR_TOPICS.posts.deadLetter },
  topology: (builder) => postAuthors(builder),
});
