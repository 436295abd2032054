// The console's dead-letters view and the /v1/dead-letters routes, in a real headless Chromium
// over an application of topologies/event-analytics.ts on the real broker: records that are not
// event envelopes go to its dead-letter topic; the page lists them newest first with their error
// and source, decoded (JSON, text, base64); a replay (after a confirmation) writes the original
// record back to its source partition with the audit headers, where the application processes it
// again (it fails again, so it comes back to the dead-letter topic, its replay header with it);
// marking a record handled shows in the page and in the API. Bad requests answer typed 400s.
import { expect } from 'chai';
import type { HTTPRequest, Page } from 'puppeteer-core';
import type { Application } from '../../engine/runtime/application.ts';
import { readTopicToEnd } from '../../engine/kafka/reader.ts';
import definition, { eventAnalytics, type AnalyticsTopics } from '../../topologies/event-analytics.ts';
import { startApplication } from '../helpers/app.ts';
import { browserForTests, screenshot, until } from '../helpers/browser.ts';
import { bootstrapServers, createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const TOKEN = 'dead-letters-test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Shown {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  source: { topic: string; partition: number; offset: number } | null;
  error: { stage: string; operator: string; class: string; message: string };
  key: unknown;
  value: unknown;
  headers: Array<{ name: string; text?: string }>;
  handled: { action: string; at: string; to?: { topic: string; partition: number; offset: number } } | null;
}

describe('the dead-letters view and routes (real broker, headless Chromium)', function () {
  this.timeout(240_000);
  let app: Application;
  const tab = browserForTests('dead-letters');
  const { shots } = tab;
  let page: Page;
  let topics: AnalyticsTopics;

  const api = async (route: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    const headers = { ...AUTH, ...(body === undefined ? {} : { 'content-type': typeof init.body === 'string' ? 'text/plain' : 'application/json' }), ...init.headers };
    const answer = await fetch(`${app.endpoint}${route}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  };
  const list = async (query = '') => (await api(`/v1/dead-letters${query}`)).body as { topics: string[]; records: Shown[]; next?: string };

  before(async () => {
    const prefix = uniqueName('dead-letters');
    topics = { input: `${prefix}-events`, deadLetter: `${prefix}-events-dead-letter`, rates: `${prefix}-event-rates` };
    await createTopic(topics.input, 2);
    // Three records that are not event envelopes, in this order: not JSON, JSON of another
    // shape (with a correlation id), bytes that are not UTF-8.
    await produceRecords(topics.input, [
      { key: 'user-1', value: '{"not": "an envelope"', timestamp: Date.now() - 3000 },
      { key: 'user-2', value: '{"event_id": 1}', headers: [{ correlation_id: 'c-2' }], timestamp: Date.now() - 2000 },
      { key: 'user-3', value: Buffer.from([0xff, 0xfe, 0x00, 0x01]), timestamp: Date.now() - 1000 },
    ]);
    app = await startApplication({ ...definition, onProcessingError: { deadLetterTopic: topics.deadLetter }, topology: (builder) => eventAnalytics(builder, topics) }, {
      applicationId: `${prefix}-event-analytics`,
      stateDir: tempStateDir(),
      commitIntervalMs: 200,
      http: { port: 0, token: TOKEN },
    });
    await until(async () => (await list()).records?.length === 3, 'the three dead letters');
    page = await tab.open();
  });

  after(async () => app?.close());

  it('lists the dead letters newest first, with their error, source and decoded values, page by page', async () => {
    const { topics: dlqs, records } = await list();
    expect(dlqs).to.deep.equal([topics.deadLetter]);
    expect(records.map((r) => r.key)).to.deep.equal([{ text: 'user-3' }, { text: 'user-2' }, { text: 'user-1' }]);
    expect(records.map((r) => r.value)).to.deep.equal([{ base64: Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64') }, { json: { event_id: 1 } }, { text: '{"not": "an envelope"' }]);
    for (const r of records) {
      expect(r.topic).to.equal(topics.deadLetter);
      expect(r.source?.topic).to.equal(topics.input);
      expect(r.error).to.include({ stage: 'processing', operator: 'validate', class: 'InvalidEventError' });
      expect(r.handled).to.equal(null);
    }
    expect(records[1]!.headers).to.deep.include({ name: 'correlation_id', text: 'c-2' });
    // Pages of two: the newest two, then the last, then no further page.
    const first = await list('?limit=2');
    expect(first.records.map((r) => r.offset)).to.deep.equal(records.slice(0, 2).map((r) => r.offset));
    const second = await list(`?limit=2&cursor=${first.next}`);
    expect(second.records.map((r) => [r.partition, r.offset])).to.deep.equal([[records[2]!.partition, records[2]!.offset]]);
    expect(second.next).to.equal(undefined);
    const one = await api(`/v1/dead-letters/${encodeURIComponent(topics.deadLetter)}/${records[0]!.partition}/${records[0]!.offset}`);
    expect(one.status).to.equal(200);
    expect(one.body).to.deep.equal(records[0]);
  });

  it('answers bad requests with typed 400s and 404s, and every route only with the token', async () => {
    const dlq = topics.deadLetter;
    const cases: Array<[string, { method?: string; body?: unknown }, number, string]> = [
      ['/v1/dead-letters?limit=0', {}, 400, 'bad-limit'],
      ['/v1/dead-letters?limit=201', {}, 400, 'bad-limit'],
      ['/v1/dead-letters?cursor=not-a-cursor', {}, 400, 'bad-cursor'],
      ['/v1/dead-letters?limit=1&limit=2', {}, 400, 'bad-parameter'],
      ['/v1/dead-letters?topic=elsewhere', {}, 404, 'unknown-dead-letter-topic'],
      [`/v1/dead-letters/${dlq}/x/0`, {}, 400, 'bad-dead-letter'],
      [`/v1/dead-letters/${dlq}/0/999999`, {}, 404, 'dead-letter-not-found'],
      ['/v1/dead-letters/replay', { body: {} }, 400, 'bad-dead-letter'],
      ['/v1/dead-letters/replay', { body: 'records' }, 400, 'bad-dead-letter'],
      ['/v1/dead-letters/replay', { body: { records: [] } }, 400, 'bad-dead-letter'],
      ['/v1/dead-letters/replay', { body: { records: [{ topic: topics.input, partition: 0, offset: 0 }] } }, 400, 'unknown-dead-letter-topic'],
      ['/v1/dead-letters/replay', { body: { records: [{ topic: dlq, partition: -1, offset: 0 }] } }, 400, 'bad-dead-letter'],
      ['/v1/dead-letters/replay', { body: { records: [{ topic: dlq, partition: 0, offset: 1.5 }] } }, 400, 'bad-dead-letter'],
      ['/v1/dead-letters/replay', { body: { records: [{ topic: dlq, partition: 0, offset: 0 }, { topic: dlq, partition: 0, offset: 0 }] } }, 400, 'bad-dead-letter'],
      ['/v1/dead-letters/replay', { body: { records: [{ topic: dlq, partition: 0, offset: 999_999 }] } }, 404, 'dead-letter-not-found'],
      ['/v1/dead-letters/handled', { body: { records: [{ topic: dlq, partition: 0, offset: 0 }], handled: 'yes' } }, 400, 'bad-dead-letter'],
    ];
    for (const [route, init, status, code] of cases) {
      const answer = await api(route, init);
      expect([answer.status, answer.body.error], `${init.method ?? (init.body === undefined ? 'GET' : 'POST')} ${route} ${JSON.stringify(init.body)}`).to.deep.equal([status, code]);
      expect(answer.body.message).to.be.a('string').and.not.equal('');
    }
    for (const [route, method] of [['/v1/dead-letters', 'GET'], ['/v1/dead-letters/replay', 'POST'], ['/v1/dead-letters/handled', 'POST']] as const) {
      expect((await fetch(`${app.endpoint}${route}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{"records": []}' : undefined })).status, route).to.equal(401);
    }
    // Nothing was written by the refused requests.
    expect((await list()).records).to.have.length(3);
  });

  it('shows them in the page, replays one after a confirmation, and the application processes it again', async () => {
    const before = (await list()).records;
    const chosen = before.find((r) => 'json' in (r.value as object))!;
    const id = `${chosen.topic}/${chosen.partition}/${chosen.offset}`;
    await page.goto(`${app.endpoint}/ui/#dead-letters`);
    await page.waitForSelector('#token-input', { visible: true });
    await page.type('#token-input', TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForSelector('table.dead-letters');
    const rows = await page.$$eval('table.dead-letters tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-dead-letter')));
    expect(rows).to.deep.equal(before.map((r) => `${r.topic}/${r.partition}/${r.offset}`));
    const row = `tr[data-dead-letter="${id}"]`;
    const cells = await page.$eval(row, (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    expect(cells[2]).to.equal(`${topics.input}[${chosen.source!.partition}]@${chosen.source!.offset}`);
    expect(cells[3]).to.include('InvalidEventError in validate (processing)');
    expect(await page.$eval(`${row} pre.json`, (n) => n.textContent)).to.equal('{\n  "event_id": 1\n}');
    expect(cells[5]).to.equal('open');
    await page.click(`${row} input[type="checkbox"]`);
    await page.click('button[data-action="replay"]');
    await page.waitForSelector('.confirm:not([hidden])');
    expect(await page.$eval('.confirm', (n) => n.textContent)).to.include(`Replay 1 record?`).and.include(`${id} → ${topics.input}[${chosen.source!.partition}]`);
    // Nothing is written before the confirmation.
    expect((await readTopicToEnd(topics.input, { bootstrapServers: bootstrapServers() })).filter((r) => r.headers?.some((h) => 'sluice.replayed-from' in h))).to.have.length(0);
    await screenshot(page, shots.folder, 'console-dead-letters-confirm', 1280, 800);
    await page.click('button[data-action="confirm-replay"]');
    await page.waitForSelector('.outcome .done');
    const outcome = await page.$eval('.outcome .done', (n) => n.textContent ?? '');
    const match = new RegExp(`^Replayed 1 record: ${id} → ${topics.input}\\[(\\d+)\\]@(\\d+)$`).exec(outcome);
    expect(match, outcome).to.not.equal(null);
    const [partition, offset] = [Number(match![1]), Number(match![2])];
    expect(partition).to.equal(chosen.source!.partition);

    // The original record is back in its source partition, with its headers and the audit ones.
    const source = await readTopicToEnd(topics.input, { bootstrapServers: bootstrapServers(), partitions: [partition] });
    const replayed = source.find((r) => r.offset === offset)!;
    expect(replayed.key?.toString()).to.equal('user-2');
    expect(replayed.value?.toString()).to.equal('{"event_id": 1}');
    const headers = Object.assign({}, ...(replayed.headers ?? []).map((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.toString()]))));
    expect(headers).to.include({ correlation_id: 'c-2', 'sluice.replayed-from': id });
    expect(Date.parse(headers['sluice.replayed-at'])).to.be.closeTo(Date.now(), 60_000);
    expect(Object.keys(headers).filter((name) => name.startsWith('sluice.error') || name.startsWith('sluice.source'))).to.deep.equal([]);

    // The application read it again: it failed again, so a new dead letter says it came from the replay.
    let again: Shown | undefined;
    await until(async () => {
      again = (await list()).records.find((r) => r.source?.offset === offset && r.source.partition === partition);
      return again !== undefined;
    }, 'the replayed record processed');
    expect(again!.headers).to.deep.include({ name: 'sluice.replayed-from', text: id });
    const replayedLetter = (await list()).records.find((r) => r.offset === chosen.offset && r.partition === chosen.partition)!;
    expect(replayedLetter.handled).to.deep.include({ action: 'replayed', to: { topic: topics.input, partition, offset } });
    // The page, shown again, has it replayed, and the new dead letter (with the original's time:
    // a replay keeps the record's timestamp) beside the others. The replay reloaded the list too:
    // wait for the list this click asked for, the one the page keeps, so that the next test's
    // click cannot land on a table about to be replaced.
    await page.$eval('table.dead-letters', (table) => table.setAttribute('data-old', ''));
    await page.click('form[data-tool="dead-letters"] button');
    await until(async () => (await page.$('table.dead-letters[data-old]')) === null && (await page.$('.result[aria-busy]')) === null, 'the list drawn anew', 10_000);
    const status = await page.$eval(row, (tr) => tr.querySelectorAll('td')[5]!.textContent ?? '');
    expect(status.startsWith(`replayed to ${topics.input}[${partition}]@${offset}`), status).to.equal(true);
    const shown = await page.$$eval('table.dead-letters tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-dead-letter')));
    expect(shown).to.have.length(4).and.include(`${again!.topic}/${again!.partition}/${again!.offset}`);
    expect(again!.timestamp).to.equal(chosen.timestamp);
  });

  it('marks a dead letter handled, in the page and through the API', async () => {
    const target = (await list()).records.find((r) => r.handled === null && 'base64' in (r.value as object))!;
    const id = `${target.topic}/${target.partition}/${target.offset}`;
    const row = `tr[data-dead-letter="${id}"]`;
    await page.click(`${row} input[type="checkbox"]`);
    expect(await page.$eval('button[data-action="mark"]', (b) => b.hasAttribute('disabled'))).to.equal(false);
    await page.click('button[data-action="mark"]');
    await until(async () => (await page.$eval('.outcome', (n) => n.textContent)) === `Marked 1 record handled: ${id}`, 'the outcome', 15_000);
    await until(async () => (await page.$eval(row, (tr) => tr.querySelectorAll('td')[5]!.textContent ?? '')).startsWith('handled'), 'the handled status');
    expect((await list()).records.find((r) => r.offset === target.offset && r.partition === target.partition)!.handled).to.include({ action: 'marked' });
    // The mark is in the application's handled topic, keyed by the dead letter.
    const marks = await readTopicToEnd(`${app.topology.applicationId}-dead-letters-handled`, { bootstrapServers: bootstrapServers() });
    expect(marks.map((m) => m.key?.toString())).to.include(id);
    await screenshot(page, shots.folder, 'console-dead-letters', 1280, 800, true);
    await screenshot(page, shots.folder, 'console-dead-letters-phone', 390, 844);
    await page.setViewport({ width: 1280, height: 800 });

    // Taken away again: open once more.
    const unmark = await api('/v1/dead-letters/handled', { body: { records: [{ topic: target.topic, partition: target.partition, offset: target.offset }], handled: false } });
    expect(unmark).to.deep.equal({ status: 200, body: { handled: false, records: [{ topic: target.topic, partition: target.partition, offset: target.offset }] } });
    expect((await list()).records.find((r) => r.offset === target.offset && r.partition === target.partition)!.handled).to.equal(null);
  });

  it('refuses to replay a record of the dead-letter topic that says nothing of its source (409), writing nothing', async () => {
    // Written by someone else: no sluice.source.* headers.
    await produceRecords(topics.deadLetter, [{ key: 'stray', value: 'written by hand', partition: 0 }]);
    let stray: Shown | undefined;
    await until(async () => {
      stray = (await list()).records.find((r) => (r.key as { text?: string } | null)?.text === 'stray');
      return stray !== undefined;
    }, 'the stray record listed', 15_000);
    expect(stray).to.deep.include({ source: null, value: { text: 'written by hand' }, error: { stage: null, operator: null, class: null, message: null } });
    const before = (await readTopicToEnd(topics.input, { bootstrapServers: bootstrapServers() })).length;
    const answer = await api('/v1/dead-letters/replay', { body: { records: [{ topic: stray!.topic, partition: stray!.partition, offset: stray!.offset }] } });
    expect(answer.status).to.equal(409);
    expect(answer.body).to.deep.include({ error: 'not-replayable', record: { topic: stray!.topic, partition: stray!.partition, offset: stray!.offset } });
    expect(answer.body.message).to.include('it has no sluice.source.topic and sluice.source.partition headers');
    expect((await readTopicToEnd(topics.input, { bootstrapServers: bootstrapServers() })).length).to.equal(before);
    expect((await list()).records.find((r) => r.offset === stray!.offset && r.partition === stray!.partition)!.handled).to.equal(null);
  });

  it('pages the list in the page as the API does, the focus kept on the pager', async () => {
    const all = (await list()).records.map((r) => `${r.topic}/${r.partition}/${r.offset}`);
    expect(all).to.have.length(5);
    await page.locator('#dead-letter-limit').fill('2');
    // The list shown so far is drawn anew: wait for the new one.
    await page.$eval('table.dead-letters', (table) => table.setAttribute('data-old', ''));
    await page.click('form[data-tool="dead-letters"] button');
    await until(async () => (await page.$('table.dead-letters[data-old]')) === null, 'the first page of two', 10_000);
    const rowsShown = () => page.$$eval('table.dead-letters tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-dead-letter')!));
    const shown: string[] = [];
    for (let n = 1; ; n++) {
      await until(async () => (await page.$eval('.pager span', (span) => span.textContent)) === `Page ${n}`, `page ${n}`, 10_000);
      // A keyboard user stays on the pager after a move.
      if (n > 1) expect(await page.evaluate('document.activeElement?.textContent')).to.match(/Next page|Previous page/);
      shown.push(...(await rowsShown()));
      const next = await page.$('.pager button:last-of-type:not([disabled])');
      if (!next) break;
      await next.click();
    }
    expect(shown).to.deep.equal(all);
  });

  it('keeps the list asked for last when an earlier answer arrives after it', async () => {
    // The first request (a page of 1) is held back until the second (a page of 3) has been drawn;
    // the page must not replace the newer list with the older answer.
    const held: Array<() => Promise<void>> = [];
    await page.setRequestInterception(true);
    const onRequest = (request: HTTPRequest) => {
      if (request.url().includes('/v1/dead-letters?limit=1') && held.length === 0) held.push(() => request.continue());
      else void request.continue();
    };
    page.on('request', onRequest);
    try {
      await page.locator('#dead-letter-limit').fill('1');
      await page.click('form[data-tool="dead-letters"] button');
      await until(async () => held.length === 1, 'the first request held', 10_000);
      await page.$eval('table.dead-letters', (table) => table.setAttribute('data-old', ''));
      await page.locator('#dead-letter-limit').fill('3');
      await page.click('form[data-tool="dead-letters"] button');
      await until(async () => (await page.$('table.dead-letters[data-old]')) === null, 'the list of three', 10_000);
      expect(await page.$$eval('table.dead-letters tbody tr', (trs) => trs.length)).to.equal(3);
      await page.$eval('table.dead-letters', (table) => table.setAttribute('data-old', ''));
      const answered = page.waitForResponse((response) => response.url().includes('/v1/dead-letters?limit=1'));
      await held[0]!();
      await answered;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await page.$('table.dead-letters[data-old]'), 'the older answer replaced the list').to.not.equal(null);
      expect(await page.$$eval('table.dead-letters tbody tr', (trs) => trs.length)).to.equal(3);
      expect(await page.$('.result[aria-busy]')).to.equal(null);
    } finally {
      page.off('request', onRequest);
      await page.setRequestInterception(false);
    }
  });
});
