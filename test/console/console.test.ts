// The web console (docs/ui.md) in a real headless Chromium, over an application of
// topologies/event-analytics.ts on the real broker, its query server guarded by a token: the
// page loads without the token and asks for it, draws every node and store of the topology,
// shows the instance with its tasks and lag and keeps it live, looks keys up, pages a scan, and
// shows failed calls (their status and the server's message), down to a stopped server.
// Screenshots go to a temporary folder, or to docs/images/ with UPDATE_SCREENSHOTS=1.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import type { Application } from '../../engine/runtime/application.ts';
import { describeJson } from '../../engine/topology/describe.ts';
import definition, { COUNTS_STORE, RATES_STORE, eventAnalytics, type AnalyticsTopics } from '../../topologies/event-analytics.ts';
import { startApplication } from '../helpers/app.ts';
import { browserForTests, screenshot, until } from '../helpers/browser.ts';
import { RECENT_HOUR, createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const TOKEN = 'console-test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** Event types and how many events of each: Type0 once, Type1 twice, ... */
const TYPES = Array.from({ length: 8 }, (_, i) => `Type${i}`);

function envelope(type: string, n: number): { key: string; value: string } {
  const aggregate = `user-${n % 5}`;
  const event = { event_id: randomUUID(), event_type: type, aggregate_type: 'User', aggregate_id: aggregate, version: n + 1, timestamp: new Date(RECENT_HOUR + n * 1000).toISOString(), correlation_id: randomUUID(), causation_id: null, data: { n } };
  return { key: aggregate, value: JSON.stringify(event) };
}

const texts = (page: Page, selector: string) => page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent ?? ''));

/** Waits until the elements `selector` finds have texts that pass `check` (all of them, and at least one). */
async function waitForTexts(page: Page, selector: string, check: (text: string) => boolean, what: string, timeoutMs = 10_000): Promise<string[]> {
  let found: string[] = [];
  await until(async () => {
    found = await texts(page, selector);
    return found.length > 0 && found.every(check);
  }, what, timeoutMs);
  return found;
}

const pageNumber = (page: Page, n: number) => waitForTexts(page, '.pager span', (t) => t === `Page ${n}`, `page ${n}`);

/** Opens the store browser on the counts and looks `key` up, with the button or, as a keyboard user would, with Enter. */
async function lookUp(page: Page, endpoint: string, key: string, submit: 'button' | 'enter'): Promise<void> {
  await page.goto(`${endpoint}/ui/#stores?store=${COUNTS_STORE}`);
  const input = 'form[data-tool="lookup"] input';
  await page.locator(input).fill(key);
  await page.focus(input);
  if (submit === 'enter') await page.keyboard.press('Enter');
  else await page.click('form[data-tool="lookup"] button');
}

describe('the web console at /ui (real broker, headless Chromium)', function () {
  this.timeout(240_000);
  let app: Application;
  const tab = browserForTests('console');
  const { shots } = tab;
  let page: Page;
  let input: string;

  before(async () => {
    const prefix = uniqueName('console');
    const topics: AnalyticsTopics = { input: `${prefix}-events`, deadLetter: `${prefix}-events-dead-letter`, rates: `${prefix}-event-rates` };
    input = await createTopic(topics.input, 3);
    const records = TYPES.flatMap((type, i) => Array.from({ length: i + 1 }, (_, n) => envelope(type, i * 10 + n)));
    await produceRecords(input, [...records, { key: 'user-0', value: '{"not": "an envelope"' }]);
    app = await startApplication({ ...definition, topology: (builder) => eventAnalytics(builder, topics) }, {
      applicationId: `${prefix}-event-analytics`,
      stateDir: tempStateDir(),
      commitIntervalMs: 200,
      http: { port: 0, token: TOKEN },
    });
    await until(async () => {
      const answer = await fetch(`${app.endpoint}/v1/stores/${COUNTS_STORE}/keys/Type7`, { headers: AUTH });
      return answer.status === 200 && ((await answer.json()) as { value: number }).value === 8;
    }, 'the counts');
    page = await tab.open();
  });

  after(async () => app?.close());

  it('serves its own files without the token, and every API route only with it', async () => {
    const redirect = await fetch(`${app.endpoint}/ui`, { redirect: 'manual' });
    expect(redirect.status).to.equal(308);
    expect(redirect.headers.get('location')).to.equal('ui/');
    const html = await fetch(`${app.endpoint}/ui/`);
    expect(html.status).to.equal(200);
    expect(html.headers.get('content-type')).to.match(/^text\/html/);
    expect(html.headers.get('content-security-policy')).to.include("script-src 'self'");
    expect(await html.text()).to.include('<script type="module" src="main.js">');
    const script = await fetch(`${app.endpoint}/ui/main.js`);
    expect([script.status, script.headers.get('content-type')]).to.deep.equal([200, 'text/javascript; charset=utf-8']);
    for (const route of ['/v1/metadata', '/v1/topology', '/metrics', `/v1/instances/${app.instanceId}/metrics`, '/v1/stores', '/ui/missing.js', '/ui/../v1/metadata']) {
      expect((await fetch(`${app.endpoint}${route}`)).status, route).to.equal(401);
    }
    expect((await fetch(`${app.endpoint}/ui/main.js`, { method: 'POST' })).status).to.equal(401);
    const unknown = await fetch(`${app.endpoint}/v1/instances/nobody/metrics`, { headers: AUTH });
    expect([unknown.status, ((await unknown.json()) as { error: string }).error]).to.deep.equal([404, 'instance-not-found']);
    const topology = await fetch(`${app.endpoint}/v1/topology`, { headers: AUTH });
    expect(await topology.json()).to.deep.equal(describeJson(app.topology));
  });

  it('asks for the token, refuses a wrong one, then draws every node and store of the topology', async () => {
    await page.goto(`${app.endpoint}/ui`);
    await page.waitForSelector('#token-input', { visible: true });
    expect(await page.$$('svg.graph')).to.have.length(0);
    await page.type('#token-input', 'not-the-token-at-all');
    await page.keyboard.press('Enter');
    const [reason] = await waitForTexts(page, '#token [data-reason]', (t) => t.includes('refused'), 'the refusal');
    expect(reason).to.include('A valid bearer token is required.');
    await page.type('#token-input', TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForSelector('svg.graph');
    const description = describeJson(app.topology);
    const drawn = await page.$$eval('svg.graph [data-name]', (nodes) => nodes.map((n) => n.getAttribute('data-name')));
    const named = await texts(page, 'svg.graph .name');
    const expected = [...description.subtopologies.flatMap((s) => s.nodes.map((n) => n.name)), ...description.stores.map((s) => s.name)];
    expect([...drawn].sort()).to.deep.equal([...expected].sort());
    expect([...named].sort()).to.deep.equal([...expected].sort());
    expect(await page.$$('svg.graph')).to.have.length(description.subtopologies.length);
    // Every node's rate and the stores' sizes come from the metrics once two readings are in.
    await waitForTexts(page, 'svg.graph .source .stats', (t) => /^[\d.,]+ rec\/s in$/.test(t), 'the sources\' rates');
    await waitForTexts(page, 'svg.graph .processor .stats', (t) => /^[\d.,]+ rec\/s( · \d+ errors)?$/.test(t), 'the processors\' rates');
    // The record that is not an envelope failed in `validate` (and went to the dead-letter topic).
    const validate = 'svg.graph [data-name="validate"] .stats';
    await waitForTexts(page, validate, (t) => t.endsWith(' · 1 errors'), 'the error of validate');
    expect(await page.$eval(validate, (n) => n.classList.contains('failing'))).to.equal(true);
    expect(await page.$eval('svg.graph [data-name="events"] .stats', (n) => n.classList.contains('failing'))).to.equal(false);
    // The numbers behind them: every record reached the source and `validate`, one failed there.
    const metrics = await (await fetch(`${app.endpoint}/v1/instances/${encodeURIComponent(app.instanceId!)}/metrics`, { headers: AUTH })).text();
    const sample = (name: string, node: string) => Number(new RegExp(`^${name}\\{node="${node}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    const sent = TYPES.reduce((sum, _, i) => sum + i + 1, 0) + 1;
    expect([sample('sluice_node_records_total', 'events'), sample('sluice_node_records_total', 'validate'), sample('sluice_node_errors_total', 'validate')]).to.deep.equal([sent, sent, 1]);
    await waitForTexts(page, `svg.graph [data-name="${COUNTS_STORE}"] .stats`, (t) => /^\d+(\.\d)? (B|kB|MB)$/.test(t), 'the store\'s size', 15_000);
    expect(await page.$eval('dl.facts', (n) => n.textContent)).to.match(/Dead-lettered1/);
    await screenshot(page, shots.folder, 'console-topology', 1280, 800, true);
  });

  it('is driven by the keyboard, with a visible focus', async () => {
    await page.goto(`${app.endpoint}/ui/#topology`);
    await page.waitForSelector('svg.graph');
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'Instances'; i++) {
      await page.keyboard.press('Tab');
      focused = (await page.evaluate('document.activeElement?.textContent ?? ""')) as string;
    }
    expect(focused).to.equal('Instances');
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).to.equal('solid');
    await page.keyboard.press('Enter');
    await page.waitForSelector(`article[data-instance="${app.instanceId}"]`);
    expect(new URL(page.url()).hash).to.equal('#instances');
  });

  it('shows the instance, its tasks and its consumer lag per partition, read again every 2 s', async () => {
    const card = `article[data-instance="${app.instanceId}"]`;
    await page.waitForSelector(card);
    const tasks = await page.$$eval(`${card} table[data-table="tasks"] tbody tr`, (rows) => rows.length);
    // Three partitions of the input and three of the repartition topic: six active tasks.
    expect(tasks).to.equal(6);
    expect(await page.$eval(card, (n) => n.textContent)).to.include('running');
    await waitForTexts(page, `${card} table[data-table="lag"]`, (t) => t.includes(input), 'the consumer lag');
    const lagRows = await page.$$eval(`${card} table[data-table="lag"] tbody tr`, (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)));
    // The partitions whose lag the instance knows (those it has fetched from), as its /metrics says.
    const metrics = await (await fetch(`${app.endpoint}/metrics`, { headers: AUTH })).text();
    const known = [...metrics.matchAll(/^sluice_consumer_lag\{([^}]*)\} (\d+)/gm)].filter(([, labels]) => labels!.includes(`topic="${input}"`)).map(([, labels, lag]) => [/partition="(\d+)"/.exec(labels!)![1], lag]);
    expect(known).to.have.length.above(0);
    expect(lagRows.filter((r) => r[0] === input).map((r) => [r[1], r[2]])).to.deep.equal(known.sort());
    // Live: the card is drawn anew from the next reading, without a reload.
    await page.$eval(card, (n) => n.setAttribute('data-seen', 'yes'));
    await until(async () => (await page.$eval(card, (n) => n.getAttribute('data-seen'))) === null, 'a new reading', 5_000);
  });

  it('charts each partition\'s lag over its last readings, and says there is nothing to restore', async () => {
    const card = `article[data-instance="${app.instanceId}"]`;
    const rows = `${card} table[data-table="lag"] tbody tr`;
    // A reading every 2 s: three points after about 4 s, one per reading, in every row.
    await until(async () => (await page.$$eval(`${rows} svg.sparkline`, (charts) => charts.map((c) => Number(c.getAttribute('data-points'))))).every((n) => n >= 3), 'three readings', 15_000);
    const charts = await page.$$eval(rows, (trs) =>
      trs.map((tr) => {
        const chart = tr.querySelector('svg.sparkline')!;
        return { lag: tr.children[2]!.textContent, points: chart.querySelector('polyline')!.getAttribute('points')!.split(' ').length, drawn: Number(chart.getAttribute('data-points')), label: chart.getAttribute('aria-label')! };
      }),
    );
    expect(charts).to.have.length.above(0);
    for (const chart of charts) {
      expect(chart.points).to.equal(chart.drawn);
      expect(chart.label).to.match(new RegExp(`^Lag of .+\\[\\d+\\] over the last ${chart.drawn} readings: from [\\d,]+ to ${chart.lag}, at most [\\d,]+$`));
    }
    expect(await page.$eval(card, (n) => n.textContent)).to.include('Restorationnothing to restore');
    await screenshot(page, shots.folder, 'console-instances', 1280, 800, true);
    // The arithmetic of the chart and of restoration's progress, in the page's own module.
    const computed = await page.evaluate(async (url) => {
      const trends = await import(url);
      const restoration = new trends.Restoration();
      const steps = [restoration.update(1000, 4000, undefined), restoration.update(3000, 2000, 1000), restoration.update(5000, 0, 1000), restoration.update(5000, 500, undefined)];
      return { steps: steps.map((step) => (step === undefined ? null : { ...step, secondsLeft: step.secondsLeft ?? null })), points: trends.sparkPoints([0, 5, 10], 120, 24), times: [45, 200, 7500].map(trends.duration) };
    }, `${app.endpoint}/ui/trends.js`);
    expect(computed).to.deep.equal({
      // Counted from the restored total when records were left again: 2,000 of 4,000 done, 2 s left at 1,000/s.
      steps: [{ done: 0, remaining: 4000, share: 0, secondsLeft: null }, { done: 2000, remaining: 2000, share: 0.5, secondsLeft: 2 }, null, { done: 0, remaining: 500, share: 0, secondsLeft: null }],
      points: '0.0,23.0 60.0,12.0 120.0,1.0',
      times: ['45 s', '3 min 20 s', '2 h 5 min'],
    });
  });

  it('looks keys up and pages a scan, values shown as JSON', async () => {
    await lookUp(page, app.endpoint!, 'Type5', 'button');
    await page.waitForSelector('.answer pre.json');
    expect(await page.$eval('.answer pre.json', (n) => n.textContent)).to.equal('6');
    expect(await page.$eval('.answer dl', (n) => n.textContent)).to.include(app.instanceId);

    const limit = 'form[data-tool="scan"] input[name="limit"]';
    await page.locator(limit).fill('3');
    await page.click('form[data-tool="scan"] button');
    const keysShown = async () => {
      await page.waitForSelector('table.entries');
      return page.$$eval('table.entries tbody tr', (rows) => rows.map((r) => [r.children[0]!.textContent, r.children[1]!.textContent]));
    };
    const seen: string[][] = [];
    for (let n = 1; ; n++) {
      await pageNumber(page, n);
      seen.push(...((await keysShown()) as string[][]));
      const next = await page.$('.pager button:last-of-type:not([disabled])');
      if (!next) break;
      await next.click();
      await pageNumber(page, n + 1);
      // A keyboard user stays on the button they pressed.
      expect(await page.evaluate('document.activeElement?.textContent')).to.match(/Next page|Previous page/);
    }
    expect(seen.map(([key]) => key)).to.deep.equal(TYPES);
    expect(seen.map(([, value]) => Number(value))).to.deep.equal(TYPES.map((_, i) => i + 1));
    await page.click('.pager button:first-of-type');
    await pageNumber(page, 2);
    expect((await keysShown()).map(([key]) => key)).to.deep.equal(['Type3', 'Type4', 'Type5']);
    await screenshot(page, shots.folder, 'console-stores', 1280, 800);
    await screenshot(page, shots.folder, 'console-stores-phone', 390, 844);
    await page.setViewport({ width: 1280, height: 800 });

    // A windowed store offers its windows instead: Type7's eight events, in one-minute windows.
    await page.select('#store-select', RATES_STORE);
    await page.locator('form[data-tool="windows"] input[name="key"]').fill('Type7');
    await page.click('form[data-tool="windows"] button');
    await page.waitForSelector('table.entries');
    const windows = await page.$$eval('table.entries tbody tr', (rows) => rows.map((r) => [r.children[0]!.textContent, Number(r.children[2]!.textContent)] as const));
    expect(windows.map(([key]) => key)).to.satisfy((keys: string[]) => keys.length > 0 && keys.every((k) => k === 'Type7'));
    expect(windows.reduce((sum, [, count]) => sum + count, 0)).to.equal(8);
    expect(new URL(page.url()).hash).to.equal(`#stores?store=${RATES_STORE}`);
    await page.goto(`${app.endpoint}/ui/#instances`);
    await page.waitForSelector(`article[data-instance="${app.instanceId}"] table`);
    await screenshot(page, shots.folder, 'console-instances-phone', 390, 844);
    await page.setViewport({ width: 1280, height: 800 });
  });

  it('shows a failed call with its status and the server\'s message, never a blank panel', async () => {
    await lookUp(page, app.endpoint!, 'NoSuchType', 'enter');
    await page.waitForSelector('.result .error');
    expect(await page.$eval('.result .error', (n) => n.textContent)).to.equal(
      `Error. GET /v1/stores/${COUNTS_STORE}/keys/NoSuchType failed (404 key-not-found): Store "${COUNTS_STORE}" has no value for this key.`,
    );

    await page.goto(`${app.endpoint}/ui/#stores?store=no-such-store&key=k1`);
    await page.waitForSelector('.result .error');
    expect(await page.$eval('.result .error', (n) => n.textContent)).to.include('(404 unknown-store): There is no store "no-such-store" in this application.');

    await page.goto(`${app.endpoint}/ui/#instances`);
    await page.waitForSelector(`article[data-instance="${app.instanceId}"]`);
    await app.close();
    await page.waitForSelector('.errors .error', { timeout: 15_000 });
    expect(await page.$eval('.errors .error', (n) => n.textContent)).to.match(/failed \((no answer|503 \S+)\)/);
  });
});
