// The console's conflicts view in a real headless Chromium, over topologies/mutation-aggregator.ts
// with the manual strategy on the real broker and PostgreSQL: two edits of the same attribute
// from the same base leave a conflict open; the page finds the store through the route /v1/stores
// lists with it, shows both sides of the attribute, and a value entered in the page becomes the
// entity's in PostgreSQL once the resolution is applied; the conflict leaves the page.
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import type { Application } from '../../engine/runtime/application.ts';
import definition, { DEFAULT_SETTINGS, OPEN_CONFLICTS_STORE, mutationAggregator, mutationTopics, type MutationTopics } from '../../topologies/mutation-aggregator.ts';
import { startApplication } from '../helpers/app.ts';
import { browserForTests, screenshot, until } from '../helpers/browser.ts';
import { createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { connectedClient, freshSchema } from '../helpers/mutations.ts';
import { tempStateDir } from '../helpers/state.ts';


function mutation(id: string, operation: 'CREATE' | 'UPDATE', base: number, attributes: Record<string, unknown>, second: number) {
  const value = { id, edge_node_id: 'edge-1', entity_type: 'Device', entity_id: 'd-1', operation_type: operation, attributes, base_version: base, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString(), priority: 5, dependencies: [] };
  return { key: 'Device:d-1', value: JSON.stringify(value) };
}

describe('the conflicts view (real broker, PostgreSQL, headless Chromium)', function () {
  this.timeout(240_000);
  const client = connectedClient();
  let app: Application;
  const tab = browserForTests('conflicts');
  const { shots } = tab;
  let page: Page;
  let topics: MutationTopics;

  const entity = async () => (await client().query("SELECT version::int AS version, attributes FROM entities WHERE entity_type = 'Device' AND entity_id = 'd-1'")).rows[0] as { version: number; attributes: Record<string, unknown> } | undefined;

  before(async () => {
    const { url } = await freshSchema(client());
    const prefix = `${uniqueName('conflicts')}-`;
    topics = mutationTopics(prefix);
    for (const topic of Object.values(topics)) await createTopic(topic, 2);
    app = await startApplication(
      { ...definition, onProcessingError: { deadLetterTopic: topics.deadLetter }, topology: (builder) => mutationAggregator(builder, topics, { ...DEFAULT_SETTINGS, strategy: 'manual', databaseUrl: url }) },
      { applicationId: `${prefix}aggregator`, stateDir: tempStateDir(), commitIntervalMs: 200, http: { port: 0 } },
    );
    // Created, then two edits of `name` from version 1: the second conflicts (its `colour` applies).
    await produceRecords(topics.input, [mutation('m1', 'CREATE', 0, { name: 'sensor', colour: 'red' }, 1)]);
    await produceRecords(topics.input, [mutation('m2', 'UPDATE', 1, { name: 'sensor-a' }, 2)]);
    await produceRecords(topics.input, [mutation('m3', 'UPDATE', 1, { name: 'sensor-b', colour: 'blue' }, 3)]);
    await until(async () => (await entity())?.attributes.colour === 'blue', 'the edits in PostgreSQL');
    page = await tab.open();
  });

  after(async () => app?.close());

  it('lists the store with its resolutions route', async () => {
    const answer = (await (await fetch(`${app.endpoint}/v1/stores`)).json()) as { stores: Array<{ name: string; routes?: unknown }> };
    const withRoutes = answer.stores.filter((s) => s.routes !== undefined);
    expect(withRoutes).to.deep.equal([{ ...answer.stores.find((s) => s.name === OPEN_CONFLICTS_STORE), routes: [{ method: 'POST', path: `/v1/stores/${OPEN_CONFLICTS_STORE}/resolutions` }] }]);
  });

  it('shows the open conflict with both sides, and a value entered in the page reaches PostgreSQL', async () => {
    expect(await entity()).to.deep.include({ attributes: { name: 'sensor-a', colour: 'blue' } });
    await page.goto(`${app.endpoint}/ui/#conflicts`);
    const form = 'form[data-conflict="m3"]';
    await page.waitForSelector(form);
    expect(await page.$eval('#conflict-store', (n) => n.textContent)).to.equal(OPEN_CONFLICTS_STORE);
    expect(await page.$eval('article.card h3', (n) => n.textContent)).to.equal('Device:d-1');
    const rows = await page.$$eval(`${form} tbody tr`, (trs) => trs.map((tr) => [tr.getAttribute('data-attribute'), ...[...tr.querySelectorAll('td pre')].map((p) => p.textContent)]));
    expect(rows).to.deep.equal([['name', 'sensor-a', 'sensor-b']]);
    await screenshot(page, shots.folder, 'console-conflicts', 1280, 800, true);
    await screenshot(page, shots.folder, 'console-conflicts-phone', 390, 844);
    await page.setViewport({ width: 1280, height: 800 });

    // Neither side: a value of the person's own, typed as JSON text.
    await page.click(`${form} input[value="value"]`);
    const field = `${form} textarea`;
    await page.$eval(field, (n) => ((n as unknown as { value: string }).value = ''));
    await page.type(field, '"sensor-c"');
    await page.click(`${form} button[type="submit"]`);
    await until(async () => (await page.$eval(`${form} .outcome`, (n) => n.textContent ?? '')).startsWith('Resolved'), 'the outcome in the page', 40_000);
    expect(await page.$eval(`${form} .outcome`, (n) => n.textContent)).to.equal('Resolved: the conflict on Device:d-1 is closed.');
    await until(async () => (await entity())?.attributes.name === 'sensor-c', 'the resolved name in PostgreSQL', 30_000);
    expect(await entity()).to.deep.include({ attributes: { name: 'sensor-c', colour: 'blue' } });
    // The list is read again: nothing left open.
    await page.waitForSelector('.cards .empty', { timeout: 10_000 });
    expect(await page.$eval('.cards .empty', (n) => n.textContent)).to.equal('No open conflicts.');
  });

  it('takes the incoming side of a new conflict', async () => {
    // Another edit from version 1: `name` changed since, so it conflicts again.
    await produceRecords(topics.input, [mutation('m4', 'UPDATE', 1, { name: 'sensor-d' }, 4)]);
    const form = 'form[data-conflict="m4"]';
    // The list is read when asked (Refresh), so that a choice being made is never redrawn away.
    await until(async () => {
      await page.click('button[data-action="refresh"]');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return (await page.$(form)) !== null;
    }, 'the new conflict in the page', 30_000);
    const rows = await page.$$eval(`${form} tbody tr`, (trs) => trs.map((tr) => [tr.getAttribute('data-attribute'), ...[...tr.querySelectorAll('td pre')].map((p) => p.textContent)]));
    expect(rows).to.deep.equal([['name', 'sensor-c', 'sensor-d']]);
    await page.click(`${form} input[value="incoming"]`);
    await page.click(`${form} button[type="submit"]`);
    await until(async () => (await page.$eval(`${form} .outcome`, (n) => n.textContent ?? '')).startsWith('Resolved'), 'the outcome in the page', 40_000);
    await until(async () => (await entity())?.attributes.name === 'sensor-d', 'the incoming name in PostgreSQL', 30_000);
    expect(await entity()).to.deep.include({ attributes: { name: 'sensor-d', colour: 'blue' } });
  });
});
