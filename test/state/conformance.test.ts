// One suite, every store backend: what a BytesStore must do, whatever keeps the bytes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { BytesStore } from '../../state/bytes-store.ts';
import { orderedNumber, orderedString } from '../../state/key-encoding.ts';
import { LevelDbStore } from '../../state/leveldb/level-store.ts';
import { MemoryStore } from '../../state/memory-store.ts';
import { SegmentRetention } from '../../state/window/segment-retention.ts';
import { isWindowOf, SegmentedKeys } from '../../state/window/windowed-keys.ts';

const b = (s: string) => Buffer.from(s, 'utf8');
const s = (buffer: Buffer) => buffer.toString('utf8');

async function collect(iterable: AsyncIterable<[Buffer, Buffer]>): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of iterable) out.push(`${s(k)}=${s(v)}`);
  return out;
}

const backends: Array<[string, () => Promise<{ store: BytesStore; reopen: () => Promise<BytesStore> }>]> = [
  [
    'LevelDbStore',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-level-'));
      const store = await LevelDbStore.open('s', dir);
      return { store, reopen: async () => (await store.close(), LevelDbStore.open('s', dir)) };
    },
  ],
  [
    'MemoryStore',
    async () => {
      const store = new MemoryStore('s');
      return { store, reopen: async () => store };
    },
  ],
];

for (const [name, open] of backends) {
  describe(`store conformance: ${name}`, () => {
    let store: BytesStore;
    let reopen: () => Promise<BytesStore>;
    beforeEach(async () => ({ store, reopen } = await open()));
    afterEach(async () => store.close().catch(() => undefined));

    it('reads its own staged writes before they are written, and keeps them after', async () => {
      store.put(b('a'), b('1'));
      expect(s(store.get(b('a'))!)).to.equal('1');
      expect(store.get(b('missing'))).to.equal(undefined);
      await store.write();
      store = await reopen();
      expect(s(store.get(b('a'))!)).to.equal('1');
    });

    it('reads only what was written with getWritten, never the staged changes', async () => {
      store.put(b('a'), b('1'));
      await store.write();
      store.put(b('a'), b('2'));
      store.put(b('b'), b('3'));
      expect(s(store.getWritten(b('a'))!)).to.equal('1');
      expect(store.getWritten(b('b'))).to.equal(undefined);
      await store.write();
      expect(s(store.getWritten(b('a'))!)).to.equal('2');
      expect(s(store.getWritten(b('b'))!)).to.equal('3');
    });

    it('reads the batch being written, and writes staged meanwhile, in order, while it is written', async () => {
      store.put(b('a'), b('1'));
      store.put(b('b'), b('1'));
      const first = store.write();
      expect(s(store.get(b('a'))!)).to.equal('1');
      store.put(b('b'), b('2'));
      store.put(b('c'), null);
      expect(s(store.get(b('a'))!)).to.equal('1');
      expect(s(store.get(b('b'))!)).to.equal('2');
      const second = store.write();
      await Promise.all([first, second]);
      expect(s(store.getWritten(b('a'))!)).to.equal('1');
      expect(s(store.getWritten(b('b'))!)).to.equal('2');
      store = await reopen();
      expect(s(store.get(b('b'))!)).to.equal('2');
      expect(store.get(b('c'))).to.equal(undefined);
    });

    it('deletes with null, staged and written', async () => {
      store.put(b('a'), b('1'));
      await store.write();
      store.put(b('a'), null);
      expect(store.get(b('a'))).to.equal(undefined);
      await store.write();
      expect(store.get(b('a'))).to.equal(undefined);
    });

    it('keeps the last of several writes to one key in a batch', async () => {
      store.put(b('k'), b('1'));
      store.put(b('k'), b('2'));
      store.put(b('k'), null);
      store.put(b('k'), b('3'));
      await store.write();
      expect(s(store.get(b('k'))!)).to.equal('3');
    });

    it('scans in byte order with bounds, prefix, limit and reverse', async () => {
      for (const key of ['b', 'a', 'ab', 'abc', 'b\u00ff', 'c', 'ac']) store.put(b(key), b(key.toUpperCase()));
      await store.write();
      expect(await collect(store.range())).to.deep.equal(['a=A', 'ab=AB', 'abc=ABC', 'ac=AC', 'b=B', 'bÿ=BŸ', 'c=C']);
      expect(await collect(store.range({ from: b('ab'), to: b('b') }))).to.deep.equal(['ab=AB', 'abc=ABC', 'ac=AC']);
      expect(await collect(store.range({ prefix: b('ab') }))).to.deep.equal(['ab=AB', 'abc=ABC']);
      expect(await collect(store.range({ prefix: b('b') }))).to.deep.equal(['b=B', 'bÿ=BŸ']);
      expect(await collect(store.range({ limit: 2 }))).to.deep.equal(['a=A', 'ab=AB']);
      expect(await collect(store.range({ reverse: true, limit: 2 }))).to.deep.equal(['c=C', 'bÿ=BŸ']);
    });

    it('restores batches straight to storage', async () => {
      await store.restore([
        [b('x'), b('1')],
        [b('y'), b('2')],
        [b('x'), null],
      ]);
      expect(store.get(b('x'))).to.equal(undefined);
      expect(await collect(store.range())).to.deep.equal(['y=2']);
    });

    it('keeps its changelog position with the data it describes, out of reads and scans', async () => {
      expect(store.position()).to.equal(undefined);
      store.put(b('a'), b('1'));
      await store.write({ topic: 'app-s-changelog', partition: 3, offset: 17 });
      await store.restore([[b('b'), b('2')]], { topic: 'app-s-changelog', partition: 3, offset: 18 });
      await store.write();
      store = await reopen();
      expect(store.position()).to.deep.equal({ topic: 'app-s-changelog', partition: 3, offset: 18 });
      expect(await collect(store.range())).to.deep.equal(['a=1', 'b=2']);
      expect(await collect(store.range({ reverse: true }))).to.deep.equal(['b=2', 'a=1']);
    });

    it('keeps the order of numbers and strings under the ordered key encodings', async () => {
      const numbers = [3, -1.5, 0, -Infinity, 1e9, -1e9, 2.25, Infinity, -0.001];
      for (const n of numbers) store.put(orderedNumber.serialize(n, '')!, b(String(n)));
      await store.write();
      const scanned: number[] = [];
      for await (const [k] of store.range()) scanned.push(orderedNumber.deserialize(k, ''));
      expect(scanned).to.deep.equal([...numbers].sort((x, y) => x - y));
      expect(orderedString.deserialize(orderedString.serialize('zé', '')!, '')).to.equal('zé');
    });

    it('clears a range of written keys at once, leaving the rest and the changelog position', async () => {
      for (const k of ['a', 'b', 'c', 'd']) store.put(b(k), b(k));
      await store.write({ topic: 't', partition: 0, offset: 4 });
      await store.clearRange(b('b'), b('d'));
      store = await reopen();
      expect(await collect(store.range())).to.deep.equal(['a=a', 'd=d']);
      expect(store.position()).to.deep.equal({ topic: 't', partition: 0, offset: 4 });
    });

    it('holds a window store: a key\'s windows together in time order within a segment, whole segments dropped by retention', async () => {
      // Time windows of 10 ms kept 100 ms, in segments of 50 ms (a real store's are at least a minute).
      const keys = new SegmentedKeys(orderedString, 'time', 10, 50);
      const put = (key: string, start: number) => store.put(keys.serialize({ key, window: { start, end: start + 10 } }, '')!, b(`${key}@${start}`));
      for (const [key, start] of [['b', 120], ['a', 10], ['ab', 20], ['a', 130], ['a', 0], ['b', 60]] as const) put(key, start);
      await store.write();
      const all: string[] = [];
      for await (const [k] of store.range()) {
        const w = keys.deserialize(k, '');
        all.push(`${w.key}@${w.window.start}-${w.window.end}`);
      }
      expect(all, 'by segment, then key, then start').to.deep.equal(['a@0-10', 'a@10-20', 'ab@20-30', 'b@60-70', 'a@130-140', 'b@120-130']);
      const ofA: string[] = [];
      for await (const [k, v] of store.range({ prefix: keys.keyPrefix(0, 'a', '')! })) if (isWindowOf(k, b('a'), 'time')) ofA.push(s(v));
      expect(ofA, 'a prefix scan, keys that only start with "a" left out').to.deep.equal(['a@0', 'a@10']);

      const retention = new SegmentRetention(store, { kind: 'time', sizeMs: 10, endInclusive: false, retentionMs: 100, segmentIntervalMs: 50 });
      expect(await retention.drop(140), 'windows from 41 on are live: segment 0 (0-49) goes').to.equal(0);
      expect(await retention.drop(150)).to.equal(1);
      store = await reopen();
      expect((await collect(store.range())).map((e) => e.split('=')[1])).to.deep.equal(['b@60', 'a@130', 'b@120']);
    });
  });
}
