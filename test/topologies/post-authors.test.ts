// The post-authors topology: posts joined with their authors on `author_id` (a foreign-key
// join of the two projections), under the TestDriver and on a broker with topics of different
// partition counts: a post follows its author's renames, waits for an author not known yet,
// moves to another author, and a bad event goes to the dead-letter topic.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Serdes, TestDriver } from 'sluice';
import postAuthorsApp, { postAuthors, type PostWithAuthor, POSTS_WITH_AUTHORS_STORE } from '../../topologies/post-authors.ts';
import { runSluice } from '../helpers/kafka-streams.ts';
import { startApplication } from '../helpers/app.ts';
import { tempStateDir } from '../helpers/state.ts';
import { createUniqueTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';

function event(type: string, aggregateType: string, id: string, version: number, data: Record<string, unknown>, minute: number): string {
  return JSON.stringify({
    event_id: randomUUID(),
    event_type: type,
    aggregate_type: aggregateType,
    aggregate_id: id,
    version,
    timestamp: new Date(Date.UTC(2026, 11, 1, 12, 0) + minute * 60_000).toISOString(),
    correlation_id: randomUUID(),
    causation_id: null,
    data,
  });
}
const user = (id: string, version: number, data: Record<string, unknown>, minute: number) => ({ key: id, value: event(version === 1 ? 'UserCreated' : 'UserUpdated', 'user', id, version, data, minute) });
const post = (id: string, version: number, data: Record<string, unknown>, minute: number) => ({ key: id, value: event(version === 1 ? 'post.created' : 'post.updated', 'post', id, version, data, minute) });

/** Users and posts, in the order they happen; the expected author of each post at the end. */
const USERS = [user('u1', 1, { email: 'ada@example.com', name: 'Ada' }, 1), user('u2', 1, { email: 'bo@example.com', name: 'Bo' }, 2), user('u1', 2, { name: 'Ada L.' }, 5), user('u3', 1, { email: 'cy@example.com', name: 'Cy' }, 8)];
const POSTS = [
  post('p1', 1, { title: 'First', author_id: 'u1' }, 3),
  post('p2', 1, { title: 'Second', author_id: 'u2' }, 4),
  // u3 is not known until minute 8.
  post('p3', 1, { title: 'Third', author_id: 'u3' }, 6),
  post('p2', 2, { title: 'Second, edited' }, 7),
];
const EXPECTED: Record<string, string | null> = { p1: 'Ada L.', p2: 'Bo', p3: 'Cy' };

describe('post-authors topology', function () {
  this.timeout(180_000);

  it('joins each post with its author as both change (TestDriver)', async () => {
    const driver = await TestDriver.create(postAuthorsApp);
    try {
      const users = driver.inputTopic<string, string>('user-events', { key: Serdes.string(), value: Serdes.string() });
      const posts = driver.inputTopic<string, string>('post-events', { key: Serdes.string(), value: Serdes.string() });
      await users.pipe(USERS[0]!.key, USERS[0]!.value);
      await users.pipe(USERS[1]!.key, USERS[1]!.value);
      await posts.pipe(POSTS[0]!.key, POSTS[0]!.value);
      await posts.pipe(POSTS[1]!.key, POSTS[1]!.value);
      await users.pipe(USERS[2]!.key, USERS[2]!.value);
      await posts.pipe(POSTS[2]!.key, POSTS[2]!.value);
      const store = driver.store<string, PostWithAuthor>(POSTS_WITH_AUTHORS_STORE);
      expect(store.get('p3')!.author).to.equal(null);
      await posts.pipe(POSTS[3]!.key, POSTS[3]!.value);
      await users.pipe(USERS[3]!.key, USERS[3]!.value);
      await posts.pipe('p9', 'not an event');
      for (const [id, name] of Object.entries(EXPECTED)) expect(store.get(id)!.author?.name, id).to.equal(name);
      expect(store.get('p2')!.title).to.equal('Second, edited');
      expect(driver.outputTopic('post-authors-dead-letter', { key: Serdes.string(), value: Serdes.bytes() }).readKeyValues().map(([key]) => key)).to.deep.equal(['p9']);
    } finally {
      await driver.close();
    }
  });

  it('joins posts and users whose topics have different partition counts, on a broker', async () => {
    const [postEvents, userEvents, output, deadLetter] = await Promise.all([
      createUniqueTopic('post-events', 3),
      createUniqueTopic('user-events', 2),
      createUniqueTopic('posts-with-authors', 3, { 'cleanup.policy': 'compact' }),
      createUniqueTopic('post-authors-dead-letter', 1),
    ]);
    await produceRecords(userEvents, USERS.slice(0, 3));
    await produceRecords(postEvents, POSTS);
    const applicationId = uniqueName('post-authors');
    const topics = { posts: { input: postEvents, deadLetter }, users: { input: userEvents, deadLetter }, output };
    const definition = defineApplication({ ...postAuthorsApp, applicationId, onProcessingError: { deadLetterTopic: deadLetter }, topology: (b) => void postAuthors(b, topics) });
    await runSluice(definition, { applicationId, inputs: [postEvents, userEvents], output });
    await produceRecords(userEvents, USERS.slice(3));
    await runSluice(definition, { applicationId, inputs: [postEvents, userEvents], output });
    const latest = new Map<string, PostWithAuthor | null>();
    for (const r of await readAll(output)) latest.set(r.key!.toString(), r.value === null ? null : (JSON.parse(r.value.toString()) as PostWithAuthor));
    expect(Object.fromEntries([...latest].map(([id, p]) => [id, p?.author?.name ?? null]))).to.deep.equal(EXPECTED);

    // The joined table's store answers interactive queries, by key from whichever instance owns it.
    const app = await startApplication(definition, { applicationId, stateDir: tempStateDir(), commitIntervalMs: 200, http: { port: 0 } });
    try {
      let answer: { value?: PostWithAuthor } = {};
      for (let attempt = 0; attempt < 60 && answer.value?.author?.name !== 'Cy'; attempt++) {
        const response = await fetch(`${app.endpoint}/v1/stores/${POSTS_WITH_AUTHORS_STORE}/keys/p3`);
        if (response.status === 200) answer = (await response.json()) as typeof answer;
        else await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(answer.value?.author).to.deep.equal({ user_id: 'u3', name: 'Cy', status: 'active' });
    } finally {
      await app.close();
    }
  });
});
