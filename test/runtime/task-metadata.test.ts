// What a task commits with its offsets: its stream time and its operators' numbers, read back
// whatever the order of the partitions' strings, and never longer than brokers accept.
import { expect } from 'chai';
import { TaskMetadata } from '../../engine/runtime/task/task-metadata.ts';

describe('task metadata (committed with the offsets)', () => {
  it('reads back what it wrote, taking the largest of several partitions\' strings and ignoring others\' strings', () => {
    const a = new TaskMetadata();
    a.streamTime = 500;
    a.set('counts', 400);
    const b = new TaskMetadata();
    b.streamTime = 700;
    b.set('counts', 300);
    b.set('other', 9);
    const read = new TaskMetadata();
    read.restore([a.encode(), null, 'written by someone else', '{"v":2,"t":99999,"p":{}}', b.encode()]);
    expect(read.streamTime).to.equal(700);
    expect(read.get('counts')).to.equal(400);
    expect(read.get('other')).to.equal(9);
  });

  it('keeps only the stream time when the operators\' numbers would pass the 4 KB brokers accept', () => {
    const many = new TaskMetadata();
    many.streamTime = 42;
    for (let i = 0; i < 200; i++) many.set(`KSTREAM-WINDOW-AGGREGATE-${String(i).padStart(10, '0')}`, 1_796_421_604_021);
    const text = many.encode();
    expect(text.length).to.be.at.most(4_000);
    expect(many.overflowed).to.equal(true);
    const read = new TaskMetadata();
    read.restore([text]);
    expect(read.streamTime).to.equal(42);
  });
});
