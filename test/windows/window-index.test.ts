// The in-memory index of a task's sliding or session windows: ordered by end then start, and
// windows past retention forgotten for every key, not only for the keys looked up again.
import { expect } from 'chai';
import { WindowIndex } from '../../engine/processors/windows/window-index.ts';

describe('window index', () => {
  it('finds a key\'s windows by end, in (end, start) order, without duplicates', () => {
    const index = new WindowIndex(100);
    for (const [start, end] of [[5, 10], [0, 10], [20, 30], [5, 10]] as const) index.add('k', { start, end });
    index.add('other', { start: 0, end: 10 });
    expect(index.endingBetween('k', 10, 30, 0)).to.deep.equal([{ start: 0, end: 10 }, { start: 5, end: 10 }, { start: 20, end: 30 }]);
    index.remove('k', { start: 5, end: 10 });
    expect(index.endingBetween('k', 0, 15, 0)).to.deep.equal([{ start: 0, end: 10 }]);
  });

  it('forgets expired windows of keys never seen again, once the retention bound has moved on by its interval', () => {
    const index = new WindowIndex(100);
    for (let k = 0; k < 1_000; k++) index.add(`session-${k}`, { start: k, end: k + 10 });
    index.add('live', { start: 5_000, end: 5_010 });
    index.expire(50);
    expect(index.keys, 'the first pass forgets the windows ending before 50').to.equal(1_000 - 40 + 1);
    index.expire(120);
    expect(index.keys, 'not again before the bound moved on by 100').to.equal(961);
    index.expire(2_000);
    expect(index.keys).to.equal(1);
    expect(index.endingBetween('live', 0, 10_000, 0)).to.deep.equal([{ start: 5_000, end: 5_010 }]);
  });
});
