import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { resetApplication } from '../../engine/runtime/reset.ts';
import postSearchApp, { applyPostEvent, type Post, POSTS_STORE, postSearch, type PostEvent, type PostTopics } from '../../topologies/post-search.ts';
import userProjectionApp, { applyUserEvent, type User, type UserEvent, userProjection, USERS_STORE, type UserTopics } from '../../topologies/user-projection.ts';
import { startApplication, waitForRecords } from '../helpers/app.ts';
import { bootstrapServers, createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { readStoreFromDisk, tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small seeded random source, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

function envelope<T extends string>(type: T, aggregate: string, aggregateType: string, version: number, data: Record<string, unknown>, minute: number) {
  return {
    event_id: randomUUID(),
    event_type: type,
    aggregate_type: aggregateType,
    aggregate_id: aggregate,
    version,
    timestamp: new Date(Date.UTC(2026, 10, 23, 12, 0) + minute * 60_000).toISOString(),
    correlation_id: randomUUID(),
    causation_id: null,
    data,
  };
}

/**
 * Per aggregate, its events in version order, then disturbed as a log from edge services is:
 * whole events sent twice, neighbours swapped, events for aggregates that do not exist, and
 * records that are not events. Aggregates interleave; each one's records keep their order.
 */
function disturb(perAggregate: Map<string, object[]>, next: () => number, broken: (i: number) => { key: string; value: string }): Array<{ key: string; value: string }> {
  const queues = [...perAggregate].map(([key, events]) => {
    const list = events.map((e) => ({ key, value: JSON.stringify(e) }));
    for (let i = 1; i < list.length - 1; i++) if (next() < 0.15) [list[i], list[i + 1]] = [list[i + 1]!, list[i]!];
    for (let i = list.length - 1; i >= 0; i--) if (next() < 0.15) list.splice(i + 1 + Math.floor(next() * 3), 0, list[i]!);
    return list;
  });
  const out: Array<{ key: string; value: string }> = [];
  let brokenCount = 0;
  while (queues.some((q) => q.length > 0)) {
    const open = queues.filter((q) => q.length > 0);
    out.push(open[Math.floor(next() * open.length)]!.shift()!);
    if (next() < 0.03) out.push(broken(brokenCount++));
  }
  return out;
}

/** Folds the records per key as the projection must: the reference model. */
function reference<E extends { version: number }, S extends { version: number }>(
  records: Array<{ key: string; value: string }>,
  valid: (key: string, value: string) => E | undefined,
  fits: (view: S | undefined, event: E) => boolean,
  apply: (view: S | null, event: E) => S | null,
): { views: Map<string, S>; rejected: number } {
  const views = new Map<string, S>();
  let rejected = 0;
  for (const { key, value } of records) {
    const event = valid(key, value);
    if (event === undefined || !fits(views.get(key), event)) {
      rejected++;
      continue;
    }
    const view = apply(views.get(key) ?? null, event);
    if (view === null) views.delete(key);
    else views.set(key, view);
  }
  return { views, rejected };
}

const parsed = <S>(store: Map<string, string>) => new Map([...store].map(([k, v]) => [k, JSON.parse(v) as S]));

describe('projections: topologies/user-projection.ts and topologies/post-search.ts (real broker)', function () {
  this.timeout(240_000);

  it('user-projection: builds each user as the reference model does (optimistic concurrency), and a rebuild after a reset gives the same users', async () => {
    const next = random(11);
    const prefix = uniqueName('users');
    const topics: UserTopics = { input: `${prefix}-user-events`, deadLetter: `${prefix}-user-events-dead-letter` };
    await createTopic(topics.input, 3);
    await createTopic(topics.deadLetter, 3);
    const perUser = new Map<string, object[]>();
    for (let u = 0; u < 120; u++) {
      const id = `user-${u}`;
      const events: object[] = [envelope('UserCreated', id, 'User', 1, { user_id: id, email: `${id}@example.com`, name: `User ${u}`, plan: 'free' }, u)];
      const updates = 1 + Math.floor(next() * 6);
      for (let v = 2; v <= updates + 1; v++) {
        const data = next() < 0.5 ? { user_id: id, name: `User ${u} v${v}` } : next() < 0.5 ? { user_id: id, email: `${id}+${v}@example.com` } : { user_id: id, status: v % 2 ? 'active' : 'inactive', seen: v };
        events.push(envelope('UserUpdated', id, 'User', v, data, u + v));
      }
      perUser.set(id, events);
    }
    const broken = (i: number) =>
      i % 2 === 0 ? { key: `ghost-${i}`, value: JSON.stringify(envelope('UserUpdated', `ghost-${i}`, 'User', 2, { name: 'nobody' }, 0)) } : { key: `user-${i}`, value: '{not json' };
    const records = disturb(perUser, next, broken);
    const expected = reference<UserEvent, User>(
      records,
      (key, value) => {
        try {
          const e = JSON.parse(value) as UserEvent;
          return e.aggregate_id === key && (e.event_type === 'UserCreated') === (e.version === 1) ? e : undefined;
        } catch {
          return undefined;
        }
      },
      (view, event) => event.version === (view?.version ?? 0) + 1,
      (view, event) => applyUserEvent(view, event),
    );
    expect(expected.rejected, 'the log has rejections of every kind').to.be.greaterThan(20);

    const applicationId = `${prefix}-user-projection`;
    const stateDir = tempStateDir();
    const definition = { ...userProjectionApp, topology: (builder: Parameters<typeof userProjection>[0]) => userProjection(builder, topics) };
    await produceRecords(topics.input, records);

    const live = await startApplication(definition, { applicationId, stateDir, commitIntervalMs: 200 });
    await waitForRecords(topics.deadLetter, expected.rejected, 60_000);
    await sleep(1_000);
    await live.close();
    const built = parsed<User>(await readStoreFromDisk(stateDir, applicationId, USERS_STORE));
    expect(built).to.deep.equal(expected.views);

    await resetApplication(live.topology, { bootstrapServers: bootstrapServers() });
    fs.rmSync(path.join(stateDir, applicationId), { recursive: true, force: true });
    const rebuild = await startApplication(definition, { applicationId, stateDir, commitIntervalMs: 200 });
    await waitForRecords(topics.deadLetter, expected.rejected * 2, 60_000);
    await sleep(1_000);
    await rebuild.close();
    expect(parsed<User>(await readStoreFromDisk(stateDir, applicationId, USERS_STORE))).to.deep.equal(built);
  });

  it('post-search: ignores stale versions, keeps deleted posts deleted, converges on the reference model, and answers prefix queries', async () => {
    const next = random(5);
    const prefix = uniqueName('posts');
    const topics: PostTopics = { input: `${prefix}-post-events`, deadLetter: `${prefix}-post-events-dead-letter` };
    await createTopic(topics.input, 3);
    await createTopic(topics.deadLetter, 3);
    const perPost = new Map<string, object[]>();
    for (let p = 0; p < 90; p++) {
      const id = `${p % 3 === 0 ? 'news' : 'blog'}-${String(p).padStart(3, '0')}`;
      const events: object[] = [envelope('post.created', id, 'Post', 1, { post_id: id, title: `Post ${p}`, author_id: `a${p % 7}`, tags: ['x'], mood: 'calm' }, p)];
      const updates = Math.floor(next() * 5);
      for (let v = 2; v <= updates + 1; v++) events.push(envelope('post.updated', id, 'Post', v, { post_id: id, title: `Post ${p} v${v}`, ...(next() < 0.5 ? { tags: ['x', `v${v}`] } : {}) }, p + v));
      if (next() < 0.25) events.push(envelope('post.deleted', id, 'Post', updates + 2, { post_id: id }, p + updates + 2));
      perPost.set(id, events);
    }
    const records = disturb(perPost, next, (i) => ({ key: `blog-x${i}`, value: JSON.stringify({ event_type: 'post.updated' }) }));
    const expected = reference<PostEvent, Post>(
      records,
      (key, value) => {
        const e = JSON.parse(value) as PostEvent;
        return e.event_id && e.aggregate_id === key ? e : undefined;
      },
      (view, event) => event.version > (view?.version ?? 0),
      (view, event) => applyPostEvent(view, event),
    );
    const applicationId = `${prefix}-post-search`;
    const stateDir = tempStateDir();
    await produceRecords(topics.input, records);
    const app = await startApplication({ ...postSearchApp, topology: (builder) => postSearch(builder, topics) }, { applicationId, stateDir, commitIntervalMs: 200, http: { port: 0 } });
    try {
      // Converged when a prefix query over every instance finds every expected `news-` post at its version.
      const news = [...expected.views].filter(([key]) => key.startsWith('news-'));
      let page: { entries: Array<{ key: string; value: Post }> } = { entries: [] };
      for (let attempt = 0; attempt < 120; attempt++) {
        const answer = await fetch(`${app.endpoint}/v1/stores/${POSTS_STORE}/range?prefix=news-&limit=1000&scope=all`);
        if (answer.status === 200) page = (await answer.json()) as typeof page;
        if (page.entries.length === news.length && page.entries.every((e) => e.value.version === expected.views.get(e.key)?.version)) break;
        await sleep(500);
      }
      expect(page.entries.map((e) => [e.key, e.value])).to.deep.equal(news.sort((a, b) => (a[0] < b[0] ? -1 : 1)));
      expect(news.some(([, post]) => post.deleted), 'some posts were deleted').to.equal(true);
    } finally {
      await app.close();
    }
    expect(parsed<Post>(await readStoreFromDisk(stateDir, applicationId, POSTS_STORE))).to.deep.equal(expected.views);
  });
});
