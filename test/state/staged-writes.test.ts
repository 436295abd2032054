import { expect } from 'chai';
import { StagedWrites } from '../../state/leveldb/staged-writes.ts';

const b = (s: string) => Buffer.from(s);

describe('StagedWrites (the staged writes of a LevelDB store)', () => {
  it('keeps the latest value or deletion per key through growth and rehashing, like a Map', () => {
    const staged = new StagedWrites();
    const model = new Map<string, string | null>();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 50_000; i++) {
      const key = `key-${Math.floor(random() * 5_000)}`;
      const value = random() < 0.2 ? null : 'v'.repeat(Math.floor(random() * 300)) + i;
      staged.set(b(key), value === null ? null : b(value));
      model.set(key, value);
    }
    expect(staged.size).to.equal(model.size);
    for (const [key, value] of model) {
      const got = staged.get(b(key));
      expect(got === null ? null : got?.toString(), key).to.equal(value);
    }
    expect(staged.get(b('never-written'))).to.equal(undefined);
  });

  it('returns copies, so a later write does not change a value already read', () => {
    const staged = new StagedWrites();
    staged.set(b('k'), b('first'));
    const first = staged.get(b('k'))!;
    staged.set(b('k'), b('second'));
    expect(first.toString()).to.equal('first');
    expect(staged.get(b('k'))!.toString()).to.equal('second');
  });

  it('tells an empty value from a deletion, and keys that are prefixes of others apart', () => {
    const staged = new StagedWrites();
    staged.set(b('a'), Buffer.alloc(0));
    staged.set(b('ab'), null);
    staged.set(Buffer.alloc(0), b('empty key'));
    expect(staged.get(b('a'))).to.deep.equal(Buffer.alloc(0));
    expect(staged.get(b('ab'))).to.equal(null);
    expect(staged.get(Buffer.alloc(0))!.toString()).to.equal('empty key');
    expect(staged.get(b('abc'))).to.equal(undefined);
  });

  it('forgets everything at clear and is reusable, after a burst too', () => {
    const staged = new StagedWrites();
    for (let i = 0; i < 20_000; i++) staged.set(b(`k${i}`), b('x'.repeat(100)));
    staged.clear();
    expect(staged.size).to.equal(0);
    expect(staged.get(b('k1'))).to.equal(undefined);
    staged.clear();
    staged.set(b('k1'), b('again'));
    expect(staged.size).to.equal(1);
    expect(staged.get(b('k1'))!.toString()).to.equal('again');
    expect(staged.get(b('k2'))).to.equal(undefined);
  });
});
