import { expect } from 'chai';
import { CachingStore } from '../../state/caching-store.ts';
import { ChangeLoggingStore } from '../../state/change-logging-store.ts';
import { ExpiringStore, stampedCodec, type Stamped } from '../../state/expiring-store.ts';
import { MemoryStore } from '../../state/memory-store.ts';
import { StoreError } from '../../state/sluice-error.ts';
import { Serdes } from '../../engine/serde/serde.ts';

function stack(ttlMs: number) {
  const clock = { now: 0 };
  const bottom = new MemoryStore('seen');
  const changelog: Array<[string, Buffer | null]> = [];
  const logged = new ChangeLoggingStore(bottom, { send: (k, v) => changelog.push([k.toString(), v]) });
  const cache = new CachingStore<string, Stamped<string>>(logged, Serdes.string(), stampedCodec(Serdes.string()), 'app-seen-changelog');
  const store = new ExpiringStore(cache, { ttlMs, now: () => clock.now });
  const commit = async () => {
    cache.flush();
    await bottom.write();
  };
  const keys = async () => {
    const out: string[] = [];
    for await (const [key] of store.range()) out.push(key);
    return out;
  };
  return { clock, store, changelog, commit, keys };
}

describe('store with a TTL', () => {
  it('hides an entry once its time to live has passed since its last write', async () => {
    const { clock, store, commit, keys } = stack(1000);
    store.put('a', 'first', { timestamp: 0 });
    store.put('b', 'second', { timestamp: 500 });
    clock.now = 999;
    expect(store.get('a')).to.equal('first');
    await commit();
    expect(await keys()).to.deep.equal(['a', 'b']);
    clock.now = 1000;
    expect(store.get('a')).to.equal(undefined);
    expect(store.get('b')).to.equal('second');
    expect(await keys()).to.deep.equal(['b']);
    store.put('a', 'again', { timestamp: 1000 });
    expect(store.get('a')).to.equal('again');
    clock.now = 1999;
    expect(store.get('a')).to.equal('again');
    expect(store.get('b')).to.equal(undefined);
  });

  it('keeps the write time in the bytes, so a restored store expires the same entries', () => {
    const codec = stampedCodec(Serdes.json<{ n: number }>());
    const bytes = codec.serialize({ value: { n: 7 }, time: 1_700_000_000_123 }, 't')!;
    expect(bytes.readDoubleBE(0)).to.equal(1_700_000_000_123);
    expect(bytes.subarray(8).toString()).to.equal('{"n":7}');
    expect(codec.deserialize(bytes, 't')).to.deep.equal({ value: { n: 7 }, time: 1_700_000_000_123 });
    expect(() => codec.deserialize(Buffer.alloc(3), 't')).to.throw(StoreError, /8 bytes/);
  });

  it('sweeps expired entries in bounded steps, deleting them through the changelog, and leaves live ones', async () => {
    const { clock, store, changelog, commit, keys } = stack(100);
    for (let i = 0; i < 25; i++) store.put(`k${String(i).padStart(2, '0')}`, 'v', { timestamp: i % 2 === 0 ? 0 : 1000 });
    await commit();
    changelog.length = 0;
    clock.now = 1050;
    let deleted = 0;
    const steps: number[] = [];
    for (let step = 0; step < 4; step++) {
      const n = await store.sweep(10);
      steps.push(n);
      deleted += n;
      await commit();
    }
    expect(deleted).to.equal(13);
    expect(steps[0]).to.be.at.most(10);
    expect(changelog.every(([, value]) => value === null)).to.equal(true);
    expect(changelog.map(([key]) => key).sort()).to.deep.equal(
      Array.from({ length: 13 }, (_, i) => `k${String(i * 2).padStart(2, '0')}`),
    );
    expect(await keys()).to.have.length(12);
  });

  it('asks for a sweep only while a pass is under way or once stream time moved on, at most once a second', async () => {
    const { clock, store, commit } = stack(600_000);
    for (let i = 0; i < 15; i++) store.put(`k${i}`, 'v', { timestamp: 0 });
    await commit();
    let wall = 1_000_000;
    expect(store.sweepDue(wall), 'never swept').to.equal(true);
    await store.sweep(10);
    wall = Date.now();
    expect(store.sweepDue(wall + 500), 'within a second').to.equal(false);
    expect(store.sweepDue(wall + 1_000), 'the pass is not over').to.equal(true);
    await store.sweep(10);
    wall = Date.now();
    expect(store.sweepDue(wall + 5_000), 'pass over, stream time still').to.equal(false);
    clock.now = 6_000;
    expect(store.sweepDue(wall + 5_000), 'stream time moved a hundredth of the TTL').to.equal(true);
  });

  it('does not sweep an entry rewritten since the last commit', async () => {
    const { clock, store, commit, keys } = stack(100);
    store.put('a', 'old', { timestamp: 0 });
    await commit();
    clock.now = 500;
    store.put('a', 'new', { timestamp: 500 });
    expect(await store.sweep(10)).to.equal(0);
    await commit();
    expect(await keys()).to.deep.equal(['a']);
    expect(store.get('a')).to.equal('new');
  });

  it('refuses a TTL that is not a positive number', () => {
    const cache = new CachingStore<string, Stamped<string>>(new MemoryStore('x'), Serdes.string(), stampedCodec(Serdes.string()), 't');
    expect(() => new ExpiringStore(cache, { ttlMs: 0, now: () => 0 })).to.throw(StoreError, /positive/);
  });
});
