// Interactive queries of windowed stores over HTTP: a key's windows in a time range, asked of any
// instance (the owner answers), every key's windows page by page across instances, and 4xx with
// a JSON body for a bad time range or a windowed store read as a plain one.
import { expect } from 'chai';
import { defineApplication, Serdes, SessionWindows, TimeWindows, type Application } from 'sluice';
import { startApplication } from '../helpers/app.ts';
import { getJson } from '../helpers/http.ts';
import { RECENT_HOUR, createUniqueTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const T0 = RECENT_HOUR;
const MINUTE = 60_000;

function views(input: string) {
  return defineApplication({
    applicationId: 'window-queries',
    keySerde: Serdes.string(),
    valueSerde: Serdes.string(),
    topology: (b) => {
      const grouped = b.stream<string, string>(input).groupByKey();
      grouped.windowedBy(TimeWindows.ofSizeAndGrace(MINUTE, 10_000)).count({ name: 'per-minute', retentionMs: 60 * MINUTE });
      grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(5 * MINUTE, 0)).count({ name: 'visits', retentionMs: 60 * MINUTE });
    },
  });
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('queries of windowed stores', function () {
  this.timeout(180_000);
  const apps: Application[] = [];
  after(async () => {
    for (const app of apps) await app.close();
  });

  it('answers a key\'s windows from any instance, every key\'s page by page, and refuses bad ranges', async () => {
    const input = await createUniqueTopic('wq-in', 4);
    const applicationId = uniqueName('wq');
    // 40 pages over 3 minutes; each page viewed once in minutes 0 and 2, twice in minute 1.
    const records = [];
    for (const minute of [0, 1, 1, 2]) {
      for (let p = 0; p < 40; p++) records.push({ key: `page-${p}`, value: 'v', timestamp: T0 + minute * MINUTE + p * 100 });
    }
    // Far ahead: moves stream time, so minutes 0-2 are complete.
    for (let p = 0; p < 40; p++) records.push({ key: `page-${p}`, value: 'v', timestamp: T0 + 30 * MINUTE });
    await produceRecords(input, records);
    for (let i = 0; i < 2; i++) apps.push(await startApplication(views(input), { applicationId, stateDir: tempStateDir(), http: { port: 0 }, commitIntervalMs: 100 }));
    const [a, b] = apps as [Application, Application];
    const url = (app: Application, path: string) => `${app.endpoint}${path}`;
    // Every record counted (each page's far-ahead window exists), and the group settled: both
    // instances ready, so no partition is between owners when the answers are checked.
    await until(async () => {
      const ready = await Promise.all([a, b].map(async (app) => (await fetch(url(app, '/readyz'))).status === 200));
      if (!ready.every(Boolean)) return false;
      const latest = await getJson(url(a, `/v1/stores/per-minute/windows?from=${T0 + 30 * MINUTE}&to=${T0 + 30 * MINUTE}&limit=100`));
      return latest.status === 200 && (latest.body as { windows: unknown[] }).windows.length === 40;
    });

    for (const app of [a, b]) {
      const answer = await getJson(url(app, `/v1/stores/per-minute/windows?key=page-7&from=${T0}&to=${T0 + 2 * MINUTE - 1}`));
      expect(answer.status).to.equal(200);
      const body = answer.body as { key: string; windows: Array<{ window: { start: number; end: number }; value: number; timestamp: number }> };
      expect(body.key).to.equal('page-7');
      expect(body.windows.map((w) => [w.window.start - T0, w.window.end - T0, w.value, w.timestamp - T0])).to.deep.equal([
        [0, MINUTE, 1, 700],
        [MINUTE, 2 * MINUTE, 2, MINUTE + 700],
      ]);
    }
    const sessions = await getJson(url(b, `/v1/stores/visits/windows?key=page-3`));
    expect((sessions.body as { windows: Array<{ window: { start: number; end: number }; value: number }> }).windows.map((w) => [w.window.start - T0, w.window.end - T0, w.value])).to.deep.equal([
      [300, 2 * MINUTE + 300, 4],
      [30 * MINUTE, 30 * MINUTE, 1],
    ]);

    // Every page's minute-1 window, 15 at a time, merged across both instances.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: unknown } = await getJson(url(a, `/v1/stores/per-minute/windows?from=${T0 + MINUTE}&to=${T0 + MINUTE}&limit=15${cursor ? `&cursor=${cursor}` : ''}`));
      expect(page.status).to.equal(200);
      const body = page.body as { windows: Array<{ key: string; window: { start: number }; value: number }>; next: string | null };
      for (const w of body.windows) {
        expect(w.window.start).to.equal(T0 + MINUTE);
        expect(w.value).to.equal(2);
        seen.push(w.key);
      }
      cursor = body.next;
    } while (cursor !== null);
    expect(seen.sort()).to.deep.equal(Array.from({ length: 40 }, (_, p) => `page-${p}`).sort());

    const bad = await getJson(url(a, `/v1/stores/per-minute/windows?key=page-1&from=${T0 + MINUTE}&to=${T0}`));
    expect(bad.status).to.equal(400);
    expect((bad.body as { error: string }).error).to.equal('bad-time-range');
    expect((await getJson(url(a, '/v1/stores/per-minute/windows?from=yesterday'))).status).to.equal(400);
    const plain = await getJson(url(a, '/v1/stores/per-minute/keys/page-1'));
    expect(plain.status).to.equal(400);
    expect((plain.body as { error: string }).error).to.equal('windowed-store');
  });
});
