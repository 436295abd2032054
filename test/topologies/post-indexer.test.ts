// The post-indexer topology: every post event sent to a search service (a real HTTP server on
// loopback) through an async operator, each post's events in their order, failed calls retried,
// a record that is not a post event dead-lettered; under the TestDriver and on a broker under
// exactly-once.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { defineApplication, Serdes, TestDriver } from 'sluice';
import { postIndexer, POST_INDEXER_TOPICS, type IndexResult } from '../../topologies/post-indexer.ts';
import { startApplication, waitForRecords } from '../helpers/app.ts';
import { createUniqueTopic, produceRecords, readAll } from '../helpers/kafka.ts';
import { startSearchService } from '../helpers/search-service.ts';
import { tempStateDir } from '../helpers/state.ts';

function postEvent(id: string, version: number, type: string, data: Record<string, unknown>): { key: string; value: string } {
  const event = {
    event_id: randomUUID(),
    event_type: type,
    aggregate_type: 'post',
    aggregate_id: id,
    version,
    timestamp: new Date(Date.UTC(2026, 11, 1, 12, 0) + version * 60_000).toISOString(),
    correlation_id: randomUUID(),
    causation_id: null,
    data,
  };
  return { key: id, value: JSON.stringify(event) };
}

/** Per post: created, three updates, and for every third post a deletion. */
function postHistory(posts: number): Array<{ key: string; value: string }> {
  const events: Array<{ key: string; value: string }> = [];
  for (let version = 1; version <= 5; version++) {
    for (let p = 0; p < posts; p++) {
      const id = `post-${p}`;
      if (version === 1) events.push(postEvent(id, 1, 'post.created', { post_id: id, title: `Post ${p}`, author_id: `u${p % 7}` }));
      else if (version < 5) events.push(postEvent(id, version, 'post.updated', { title: `Post ${p}, edit ${version - 1}` }));
      else if (p % 3 === 0) events.push(postEvent(id, 5, 'post.deleted', {}));
    }
  }
  return events;
}

const indexerApp = (searchUrl: string, topics = POST_INDEXER_TOPICS) =>
  defineApplication({ applicationId: 'post-indexer', keySerde: Serdes.string(), topology: (b) => postIndexer(b, searchUrl, topics) });

describe('post-indexer topology', function () {
  this.timeout(180_000);

  it('indexes each post event in order and dead-letters what is not one (TestDriver)', async () => {
    const search = await startSearchService((call) => call % 4 === 0);
    const driver = await TestDriver.create(indexerApp(search.url));
    try {
      const input = driver.inputTopic<string, string>('post-events', { key: Serdes.string(), value: Serdes.string() });
      for (const { key, value } of postHistory(4)) await input.pipe(key, value);
      await input.pipe('post-x', 'not an event');
      // The retries of refused calls wait for their back-off on the driver's clock.
      for (let i = 0; i < 6; i++) await driver.advanceWallClockTime(5_000);
      expect([...search.versionsSeen.values()].every((versions) => versions.join() === versions.slice().sort().join())).to.equal(true);
      expect(search.posts.get('post-1')).to.deep.include({ version: 4 });
      expect(search.posts.has('post-0'), 'deleted').to.equal(false);
      const results = driver.outputTopic<string, IndexResult>('post-index-results', { key: Serdes.string(), value: Serdes.json() }).readValues();
      expect(results).to.have.length(postHistory(4).length);
      expect(driver.outputTopic('post-index-dead-letter', { key: Serdes.string(), value: Serdes.string() }).readValues()).to.deep.equal(['not an event']);
    } finally {
      await driver.close();
      await search.close();
    }
  });

  it('on a broker under exactly-once: every event indexed once, each post in order, refused calls retried', async () => {
    const search = await startSearchService((call) => call % 7 === 0);
    const topics = { input: await createUniqueTopic('post-events', 3), results: await createUniqueTopic('post-index-results', 3), deadLetter: await createUniqueTopic('post-index-dead-letter', 1) };
    const events = postHistory(60);
    await produceRecords(topics.input, [...events, { key: 'post-x', value: 'not an event' }]);
    const app = await startApplication(indexerApp(search.url, topics), { stateDir: tempStateDir(), guarantee: 'exactly_once' });
    try {
      const results = await waitForRecords(topics.results, events.length, 60_000);
      expect(results).to.have.length(events.length);
      for (const [post, versions] of search.versionsSeen) expect(versions, post).to.deep.equal(versions.slice().sort((a, b) => a - b));
      expect(search.counts.failed, 'refused calls').to.be.greaterThan(0);
      expect([...search.versionsSeen.values()].reduce((n, v) => n + v.length, 0), 'each event indexed once').to.equal(events.length);
      expect(search.posts.size).to.equal(40);
      expect(search.posts.get('post-1')!.data.title).to.equal('Post 1, edit 3');
      const dead = await readAll(topics.deadLetter, 'read_committed');
      expect(dead.map((r) => r.value!.toString())).to.deep.equal(['not an event']);
    } finally {
      await app.close();
      await search.close();
    }
  });
});
