// What a consumer knows of a partition it has delivered nothing from: whether records were
// waiting when it was assigned, asked of the broker once, in the background, and asked again
// after the partition is revoked.
import { expect } from 'chai';
import { StartingBacklog } from '../../engine/kafka/starting-backlog.ts';

describe('starting backlog', () => {
  it('is unknown until the broker answers, then known; asked once per assignment', async () => {
    const asked: string[] = [];
    let answer = true;
    const backlog = new StartingBacklog(async (topic, partition) => {
      asked.push(`${topic}-${partition}`);
      return answer;
    });
    expect(backlog.get('orders', 0)).to.equal(undefined);
    expect(backlog.get('orders', 0)).to.equal(undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(backlog.get('orders', 0)).to.equal(true);
    expect(asked).to.deep.equal(['orders-0']);
    answer = false;
    backlog.forget([{ topic: 'orders', partition: 0 }]);
    expect(backlog.get('orders', 0)).to.equal(undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(backlog.get('orders', 0)).to.equal(false);
    expect(asked).to.deep.equal(['orders-0', 'orders-0']);
  });

  it('stays unknown, and asks again later, when the broker cannot answer', async () => {
    let fail = true;
    const backlog = new StartingBacklog(async () => {
      if (fail) throw new Error('broker away');
      return true;
    });
    expect(backlog.get('orders', 1)).to.equal(undefined);
    await new Promise((resolve) => setImmediate(resolve));
    fail = false;
    expect(backlog.get('orders', 1)).to.equal(undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(backlog.get('orders', 1)).to.equal(true);
  });
});
