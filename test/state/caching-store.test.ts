import { expect } from 'chai';
import { CachingStore } from '../../state/caching-store.ts';
import { ChangeLoggingStore } from '../../state/change-logging-store.ts';
import { MemoryStore } from '../../state/memory-store.ts';
import { Serdes } from '../../engine/serde/serde.ts';

function stack(options: ConstructorParameters<typeof CachingStore>[4] = {}) {
  const bottom = new MemoryStore('counts');
  const changelog: Array<[string, string | null, number]> = [];
  const logged = new ChangeLoggingStore(bottom, { send: (k, v, t) => changelog.push([k.toString(), v === null ? null : v.toString(), t]) });
  const cache = new CachingStore<string, number>(logged, Serdes.string(), Serdes.json<number>(), 'app-counts-changelog', options);
  const flushed: Array<[string, number | null, number | null]> = [];
  cache.setFlushListener((k, v, old) => flushed.push([k, v, old]));
  return { bottom, cache, changelog, flushed };
}

describe('write-back cache', () => {
  it('passes one change per key per flush down, to the changelog and to the listener, with the old value', async () => {
    const { bottom, cache, changelog, flushed } = stack();
    for (let i = 1; i <= 5; i++) cache.put('hot', i, { timestamp: 100 + i });
    cache.put('cold', 1, { timestamp: 7 });
    expect(cache.get('hot')).to.equal(5);
    expect(changelog).to.deep.equal([]);
    cache.flush();
    expect(changelog).to.deep.equal([
      ['hot', '5', 105],
      ['cold', '1', 7],
    ]);
    expect(flushed).to.deep.equal([
      ['hot', 5, null],
      ['cold', 1, null],
    ]);
    await bottom.write();
    cache.put('hot', 6);
    cache.delete('cold');
    cache.flush();
    expect(flushed.slice(2)).to.deep.equal([
      ['hot', 6, 5],
      ['cold', null, 1],
    ]);
  });

  it('passes nothing down for a key written and deleted between two flushes, or deleted without existing', async () => {
    const { bottom, cache, changelog, flushed } = stack();
    cache.put('brief', 1, { timestamp: 1 });
    cache.delete('brief', { timestamp: 2 });
    cache.delete('never', { timestamp: 3 });
    cache.put('kept', 1, { timestamp: 4 });
    cache.flush();
    expect(changelog).to.deep.equal([['kept', '1', 4]]);
    expect(flushed).to.deep.equal([['kept', 1, null]]);
    await bottom.write();
    // A key that exists below is deleted for real, even when written in between.
    cache.put('kept', 2, { timestamp: 5 });
    cache.delete('kept', { timestamp: 6 });
    cache.flush();
    expect(changelog.slice(1)).to.deep.equal([['kept', null, 6]]);
    expect(flushed.slice(1)).to.deep.equal([['kept', null, 1]]);
  });

  it('reads what is below on a miss, and forwards every write at once when disabled', () => {
    const { bottom, cache, flushed } = stack({ enabled: false });
    bottom.put(Buffer.from('seen'), Buffer.from('41'));
    expect(cache.get('seen')).to.equal(41);
    cache.put('seen', 42);
    cache.put('seen', 43);
    expect(flushed).to.deep.equal([
      ['seen', 42, 41],
      ['seen', 43, 42],
    ]);
  });

  it('asks for an early commit when too many keys changed, and drops clean entries beyond its size', () => {
    let asked = 0;
    const { cache } = stack({ maxDirty: 10, maxEntries: 20, onPressure: () => asked++ });
    for (let i = 0; i < 30; i++) cache.put(`k${i}`, i);
    expect(asked).to.equal(1);
    expect(cache.dirtyCount).to.equal(30);
    cache.flush();
    expect(cache.dirtyCount).to.equal(0);
    // Evicted entries are read again from below.
    expect(cache.get('k0')).to.equal(0);
    expect(cache.get('k29')).to.equal(29);
  });
});
