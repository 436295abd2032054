// The console's store browser over a table of Avro values (the Confluent wire format, the schema
// in the local schema registry): a value looked up shows as the record it decodes to, as JSON.
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { defineApplication, Serdes } from 'sluice';
import type { Application } from '../../engine/runtime/application.ts';
import { AvroSerde } from '../../engine/serde/avro/avro-serde.ts';
import { startApplication } from '../helpers/app.ts';
import { browserForTests, until } from '../helpers/browser.ts';
import { createUniqueTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const TOKEN = 'console-avro-token-0123456789';
const SCHEMA = {
  type: 'record',
  name: 'MediaItem',
  namespace: 'sluice.console.test',
  fields: [
    { name: 'media_id', type: 'string' },
    { name: 'title', type: 'string' },
    { name: 'version', type: 'long' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
  ],
} as const;

interface MediaItem {
  media_id: string;
  title: string;
  version: number;
  tags: string[];
}

describe('the console\'s store browser over Avro values (real broker and schema registry, headless Chromium)', function () {
  this.timeout(120_000);
  const tab = browserForTests('console-avro');
  let app: Application;
  let page: Page;
  const items: MediaItem[] = [
    { media_id: 'media-1', title: 'First cut', version: 1, tags: ['draft'] },
    { media_id: 'media-2', title: 'Trailer', version: 1, tags: [] },
    { media_id: 'media-1', title: 'Final cut', version: 2, tags: ['final', 'hd'] },
  ];

  before(async () => {
    const topic = await createUniqueTopic('console-avro-media', 1);
    const writer = new AvroSerde<MediaItem>({ schema: structuredClone(SCHEMA) as never });
    await writer.prepare(topic);
    await produceRecords(topic, items.map((item) => ({ key: item.media_id, value: writer.serialize(item, topic)! })));
    app = await startApplication(
      defineApplication({
        applicationId: uniqueName('console-avro'),
        keySerde: Serdes.string(),
        topology: (builder) => void builder.table<string, MediaItem>(topic, { name: 'media', value: Serdes.avro({ schema: structuredClone(SCHEMA) as never }) }),
      }),
      { stateDir: tempStateDir(), commitIntervalMs: 200, http: { port: 0, token: TOKEN } },
    );
    await until(async () => {
      const answer = await fetch(`${app.endpoint}/v1/stores/media/keys/media-1`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return answer.status === 200 && ((await answer.json()) as { value: MediaItem }).value.version === 2;
    }, 'the table');
    page = await tab.open();
  });

  after(async () => app?.close());

  it('shows a looked-up value as the record it decodes to', async () => {
    await page.goto(`${app.endpoint}/ui/#stores?store=media`);
    await page.waitForSelector('#token-input', { visible: true });
    await page.type('#token-input', TOKEN);
    await page.keyboard.press('Enter');
    const input = 'form[data-tool="lookup"] input';
    await page.waitForSelector(input, { visible: true });
    await page.locator(input).fill('media-1');
    await page.click('form[data-tool="lookup"] button');
    await page.waitForSelector('.answer pre.json');
    const shown = await page.$eval('.answer pre.json', (n) => n.textContent ?? '');
    // Pretty-printed: one field a line.
    expect(shown.split('\n').length).to.be.above(4);
    expect(JSON.parse(shown)).to.deep.equal(items[2]);
  });
});
