import { expect } from 'chai';
import { defineApplication } from '../../engine/runtime/definition.ts';
import type { ProcessorSupplier } from '../../engine/processors/processor.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { Punctuators } from '../../engine/runtime/task/punctuators.ts';
import { UsageError } from '../../engine/errors.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';

/** Buffers values per task and, at each punctuation, forwards what it holds as one record. */
function buffering(type: 'wall-clock' | 'stream-time', intervalMs: number): ProcessorSupplier {
  return ({ next, schedule, context }) => {
    let held: string[] = [];
    schedule(intervalMs, type, (time) => {
      if (held.length === 0) return;
      next(`flush@${type}`, JSON.stringify({ values: held, time, contextTime: context.timestamp, topic: context.topic }));
      held = [];
    });
    return (_key, value) => {
      held.push(String(value));
    };
  };
}

describe('punctuation', function () {
  this.timeout(60_000);

  it('calls wall-clock punctuations between batches, so a quiet stream still flushes', async () => {
    const prefix = uniqueName('punct');
    await createTopic(`${prefix}-in`, 1);
    await createTopic(`${prefix}-out`, 1);
    const app = await startApplication(
      defineApplication({
        applicationId: 'punctuation',
        keySerde: Serdes.string(),
        valueSerde: Serdes.string(),
        topology: (builder) => builder.stream<string, string>(`${prefix}-in`).process(buffering('wall-clock', 200), { name: 'buffer' }).to(`${prefix}-out`),
      }),
      { commitIntervalMs: 100 },
    );
    try {
      const before = Date.now();
      await produceRecords(`${prefix}-in`, ['a', 'b', 'c'].map((v) => ({ key: 'k', value: v })));
      // Nothing more arrives: only the clock can flush the buffer.
      const flushed = await waitForRecords(`${prefix}-out`, 1, 20_000);
      expect(flushed).to.have.length.greaterThan(0);
      const values = flushed.flatMap((r) => JSON.parse(text(r.value)!).values as string[]);
      expect(values).to.deep.equal(['a', 'b', 'c']);
      const first = JSON.parse(text(flushed[0]!.value)!);
      expect(first.time).to.be.at.least(before);
      expect(first.contextTime, 'the context carries the punctuation time').to.equal(first.time);
      expect(first.topic, 'no input record during a punctuation').to.equal('');
      expect(flushed[0]!.timestamp).to.equal(first.time);
    } finally {
      await app.close();
    }
  });

  it('calls stream-time punctuations as record timestamps pass each interval', async () => {
    const prefix = uniqueName('punct');
    await createTopic(`${prefix}-in`, 1);
    await createTopic(`${prefix}-out`, 1);
    const app = await startApplication(
      defineApplication({
        applicationId: 'punctuation-stream',
        keySerde: Serdes.string(),
        valueSerde: Serdes.string(),
        topology: (builder) => builder.stream<string, string>(`${prefix}-in`).process(buffering('stream-time', 1_000), { name: 'buffer' }).to(`${prefix}-out`),
      }),
      { commitIntervalMs: 100 },
    );
    try {
      const t0 = Date.UTC(2026, 10, 23, 12, 0, 0);
      // The first record starts the schedule (due at t0 + 1 s); the one at t0 + 1.5 s triggers it.
      const records = [0, 200, 400, 1_500, 1_700, 3_100].map((ms, i) => ({ key: 'k', value: `v${i}`, timestamp: t0 + ms }));
      await produceRecords(`${prefix}-in`, records);
      const flushed = await waitForRecords(`${prefix}-out`, 2, 20_000);
      expect(flushed.map((r) => JSON.parse(text(r.value)!))).to.deep.equal([
        { values: ['v0', 'v1', 'v2', 'v3'], time: t0 + 1_500, contextTime: t0 + 1_500, topic: '' },
        { values: ['v4', 'v5'], time: t0 + 3_100, contextTime: t0 + 3_100, topic: '' },
      ]);
    } finally {
      await app.close();
    }
  });

  it('schedules: due every interval from the first check, missed intervals not replayed, cancellable', () => {
    const punctuators = new Punctuators();
    const calls: number[] = [];
    const cancel = punctuators.schedule(100, 'wall-clock', (t) => calls.push(t));
    expect(punctuators.dueAt('wall-clock', 0)).to.equal(true);
    punctuators.run('wall-clock', 1_000); // the first check sets the grid: due at 1,100
    expect(punctuators.dueAt('wall-clock', 1_099)).to.equal(false);
    punctuators.run('wall-clock', 1_150);
    punctuators.run('wall-clock', 1_990); // six intervals late: one call, next due at 2,000
    expect(punctuators.dueAt('wall-clock', 1_999)).to.equal(false);
    punctuators.run('wall-clock', 2_000);
    cancel();
    punctuators.run('wall-clock', 5_000);
    expect(calls).to.deep.equal([1_150, 1_990, 2_000]);
    expect(punctuators.dueAt('stream-time', 10_000), 'no stream-time schedule').to.equal(false);
    expect(() => punctuators.schedule(0, 'wall-clock', () => {})).to.throw(UsageError, /positive/);
  });
});
