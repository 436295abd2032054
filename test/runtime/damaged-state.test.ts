// State that cannot be trusted is rebuilt from its changelog, never served or built upon: a
// store whose files were deleted or lost writes (its checkpoint still there), and one whose
// table files hold garbage, found at open or at any read.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Application } from '../../engine/runtime/application.ts';
import { counter } from '../helpers/counter.ts';
import { startApplication, text } from '../helpers/app.ts';
import { createUniqueTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { readChangelog, readStoreFromDisk, tempStateDir } from '../helpers/state.ts';

let KEYS = 50;
const batch = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ key: `k${String((from + i) % KEYS).padStart(5, '0')}`, value: String(from + i) }));
function truth(n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { key } of batch(0, n)) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/** The latest count per key in the output, once every key reached its true count (or the time is up). */
async function settledCounts(output: string, expected: Map<string, number>, timeoutMs = 60_000): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = new Map<string, number>();
    for (const r of await readAll(output)) counts.set(text(r.key)!, Number(text(r.value)));
    if ([...expected].every(([k, n]) => counts.get(k) === n) || Date.now() > deadline) return counts;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** Runs the counter on `stateDir` over the input so far, then stops it cleanly. */
async function runOnce(setup: { input: string; output: string; applicationId: string; stateDir: string }, produced: number, total: number): Promise<Application> {
  const app = await startApplication(counter(setup.input, setup.output), { applicationId: setup.applicationId, stateDir: setup.stateDir });
  if (total > produced) await produceRecords(setup.input, batch(produced, total));
  await settledCounts(setup.output, truth(total));
  return app;
}

async function expectTruth(setup: { output: string; applicationId: string; stateDir: string }, total: number): Promise<void> {
  const expected = truth(total);
  const counts = await settledCounts(setup.output, expected);
  for (const [key, n] of expected) expect(counts.get(key), `output ${key}`).to.equal(n);
  const logged = await readChangelog(`${setup.applicationId}-counts-changelog`);
  for (const [key, n] of expected) expect(Number(logged.get(key)), `changelog ${key}`).to.equal(n);
  const stored = await readStoreFromDisk(setup.stateDir, setup.applicationId, 'counts');
  for (const [key, n] of expected) expect(Number(stored.get(key)), `store ${key}`).to.equal(n);
}

async function prepare(partitions = 2) {
  return {
    input: await createUniqueTopic('damaged-in', partitions),
    output: await createUniqueTopic('damaged-out', partitions),
    applicationId: uniqueName('damaged'),
    stateDir: tempStateDir(),
  };
}

const storeDir = (setup: { stateDir: string; applicationId: string }, task: string) => path.join(setup.stateDir, setup.applicationId, task, 'counts');

describe('damaged local state', function () {
  this.timeout(240_000);
  beforeEach(() => (KEYS = 50));

  it('restores a store whose folder was deleted while its checkpoint stayed, and counts on from the truth', async () => {
    const setup = await prepare();
    await (await runOnce(setup, 0, 2_000)).close();
    expect(fs.existsSync(path.join(setup.stateDir, setup.applicationId, '0_0', '.checkpoint'))).to.equal(true);
    fs.rmSync(storeDir(setup, '0_0'), { recursive: true });
    const app = await runOnce(setup, 2_000, 3_000);
    await app.close();
    await expectTruth(setup, 3_000);
  });

  it('restores a store whose write-ahead log lost its end, instead of serving stale counts', async () => {
    const setup = await prepare();
    await (await runOnce(setup, 0, 2_000)).close();
    // Stopped cleanly: LevelDB keeps the recent writes in its log until the next open.
    for (const task of ['0_0', '0_1']) {
      const dir = storeDir(setup, task);
      for (const file of fs.readdirSync(dir).filter((f) => /^\d+\.log$/.test(f))) {
        const size = fs.statSync(path.join(dir, file)).size;
        if (size > 0) fs.truncateSync(path.join(dir, file), Math.floor(size / 3));
      }
    }
    const app = await runOnce(setup, 2_000, 3_000);
    await app.close();
    await expectTruth(setup, 3_000);
  });

  it('wipes and restores a store whose table files hold garbage, found at a read, and carries on', async () => {
    // Enough keys for several LevelDB blocks: the first is damaged, the last (with the store's
    // position) is not, so the store opens and the damage is met by the first read of an old key.
    KEYS = 3_000;
    const setup = await prepare(1);
    await (await runOnce(setup, 0, 6_000)).close();
    // A second start turns the log into a table file.
    await (await runOnce(setup, 6_000, 6_000)).close();
    const dir = storeDir(setup, '0_0');
    const tables = fs.readdirSync(dir).filter((f) => f.endsWith('.ldb'));
    expect(tables.length, 'table files').to.be.greaterThan(0);
    for (const file of tables) {
      const location = path.join(dir, file);
      expect(fs.statSync(location).size, `${file} spans several blocks`).to.be.greaterThan(3 * 4096);
      const fd = fs.openSync(location, 'r+');
      fs.writeSync(fd, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff)), 0, 4096, 0);
      fs.closeSync(fd);
    }
    const app = await startApplication(counter(setup.input, setup.output), { applicationId: setup.applicationId, stateDir: setup.stateDir, http: { port: 0 } });
    try {
      // A query that meets the damage answers 503 (not 500) while the store is restored, then the truth.
      const expected = truth(6_000);
      const keys = [...expected.keys()].slice(0, 20);
      const statuses: number[] = [];
      const deadline = Date.now() + 60_000;
      for (;;) {
        const answers = await Promise.all(keys.map(async (key) => fetch(`${app.endpoint}/v1/stores/counts/keys/${key}`).then(async (r) => ({ status: r.status, body: (await r.json()) as { value?: number; error?: string } }))));
        statuses.push(...answers.map((a) => a.status));
        if (answers.every((a, i) => a.status === 200 && a.body.value === expected.get(keys[i]!)) || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(statuses, 'no query failed with 500').to.not.include(500);
      expect(statuses, 'the damage was met by a query').to.include(503);
      expect(statuses.at(-1)).to.equal(200);
      await produceRecords(setup.input, batch(6_000, 9_000));
      await settledCounts(setup.output, truth(9_000));
      expect(app.state).to.equal('RUNNING');
      expect(app.progress.recoveries, 'damaged stores recovered').to.equal(1);
    } finally {
      await app.close();
    }
    await expectTruth(setup, 9_000);
  });
});
