// The async runner alone, on real timers: where it holds a task's input, what `close` and
// `finishAll` do, and the back-off's bounds.
import { expect } from 'chai';
import v8 from 'node:v8';
import vm from 'node:vm';
import { AsyncStats } from '../../engine/observability/async-stats.ts';
import { backoffDelay, asyncSettings, type AsyncSettings } from '../../engine/processors/async/async-options.ts';
import { AsyncRunner, type AsyncCall, type FinishedJob } from '../../engine/processors/async/async-runner.ts';
import type { ConsumedRecord } from '../../engine/kafka/records.ts';
import { realTimers } from '../../engine/runtime/timers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function raw(topic: string, offset: number): ConsumedRecord {
  return { topic, partition: 0, offset, timestamp: 0, key: null, value: null, size: 0 } as ConsumedRecord;
}

function runner(call: AsyncCall, options: Parameters<typeof asyncSettings>[0] = {}) {
  const settings = asyncSettings(options) as AsyncSettings;
  const passed: FinishedJob[] = [];
  const stats = new AsyncStats().of('op');
  const instance = new AsyncRunner({
    operator: 'op',
    call,
    settings,
    inOrder: settings.ordering === 'partition',
    timers: realTimers,
    stats,
    observe: () => undefined,
    now: () => performance.now(),
    onRetry: () => undefined,
    passOn: (job) => void passed.push(job),
  });
  return { runner: instance, passed, stats };
}

describe('AsyncRunner', () => {
  it('holds each input topic at its first record not passed on', async () => {
    const gates = new Map<string, () => void>();
    const { runner: r, passed } = runner((value) => new Promise((resolve) => gates.set(String(value), () => resolve(value))));
    r.take('a', 'a0', raw('orders', 10), 0, undefined);
    r.take('b', 'b0', raw('orders', 11), 0, undefined);
    r.take('c', 'c0', raw('payments', 4), 0, undefined);
    expect(r.position()).to.deep.equal([
      { topic: 'orders', offset: 10 },
      { topic: 'payments', offset: 4 },
    ]);
    gates.get('b0')!();
    gates.get('c0')!();
    await sleep(5);
    r.resume();
    expect(passed.map((j) => j.value)).to.deep.equal(['b0', 'c0']);
    expect(r.position(), 'a0 still holds orders; payments is free').to.deep.equal([{ topic: 'orders', offset: 10 }]);
    gates.get('a0')!();
    await sleep(5);
    r.resume();
    expect(r.position()).to.equal(undefined);
    expect(r.inFlight).to.equal(0);
  });

  it('close aborts the calls in flight (AbortError) and ignores their late answers', async () => {
    const signals: AbortSignal[] = [];
    const { runner: r, passed, stats } = runner((value, _key, { signal }) => {
      signals.push(signal);
      return sleep(20).then(() => value);
    });
    r.take('a', 1, raw('t', 0), 0, undefined);
    r.take('b', 2, raw('t', 1), 0, undefined);
    r.close();
    expect(signals.map((s) => s.aborted)).to.deep.equal([true, true]);
    expect((signals[0]!.reason as Error).name).to.equal('AbortError');
    await sleep(40);
    r.resume();
    expect(passed).to.deep.equal([]);
    expect(stats.inFlight).to.equal(0);
    expect(r.position(), 'their records stay uncommitted').to.deep.equal([{ topic: 't', offset: 0 }]);
  });

  it('finishAll waits for retries after their back-off', async () => {
    let calls = 0;
    const { runner: r, passed } = runner(
      async (value) => {
        if (++calls < 3) throw new Error('not yet');
        return value;
      },
      { retry: { attempts: 3, backoffMs: 10 } },
    );
    r.take('a', 'v', raw('t', 0), 0, undefined);
    await r.finishAll();
    r.resume();
    expect(calls).to.equal(3);
    expect(passed.map((j) => j.result)).to.deep.equal([{ ok: true, value: 'v' }]);
  });

  it('keeps one key waiting behind its first record while other keys pass', async () => {
    let release: () => void = () => undefined;
    const { runner: r, passed } = runner((value) => (value === 'a0' ? new Promise((resolve) => (release = () => resolve(value))) : Promise.resolve(value)), { concurrency: 2 });
    for (const [key, value, offset] of [['a', 'a0', 0], ['a', 'a1', 1], ['b', 'b0', 2], ['c', 'c0', 3]] as const) r.take(key, value, raw('t', offset), 0, undefined);
    await sleep(5);
    r.resume();
    expect(passed.map((j) => j.value)).to.deep.equal(['b0', 'c0']);
    release();
    await sleep(5);
    r.resume();
    expect(passed.map((j) => j.value)).to.deep.equal(['b0', 'c0', 'a0', 'a1']);
  });

  it('in input order, leaves room for records behind a slow call that finished, up to three times the concurrency', async () => {
    let release: () => void = () => undefined;
    const { runner: r, passed } = runner((value) => (value === 0 ? new Promise((resolve) => (release = () => resolve(value))) : Promise.resolve(value)), { concurrency: 2, ordering: 'partition' });
    for (let offset = 0; offset < 4; offset++) r.take(`k${offset}`, offset, raw('t', offset), 0, undefined);
    await sleep(5);
    r.resume();
    expect(passed, 'all wait behind the first').to.have.length(0);
    // Three finished and one running: room for three more not finished, capped at 3 × 2 taken in all.
    expect(r.room).to.equal(2);
    for (let offset = 4; offset < 6; offset++) r.take(`k${offset}`, offset, raw('t', offset), 0, undefined);
    expect(r.room).to.equal(0);
    release();
    await sleep(5);
    r.resume();
    expect(passed.map((j) => j.value)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(r.room).to.equal(4);
  });

  it('lets go of the records it passed on while a slower call of another key still runs', async () => {
    // gc() without --expose-gc on the command line: the flag, then the function from a new context.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    let release: () => void = () => undefined;
    const { runner: r, passed } = runner((value, key) => (key === 'slow' ? new Promise((resolve) => (release = () => resolve(value))) : Promise.resolve(value)));
    r.take('slow', 'first', raw('t', 0), 0, undefined);
    // Taken in a function of their own: a suspended async function's frame could keep the last ones.
    const takeWatched = (): Array<WeakRef<object>> => {
      const refs: Array<WeakRef<object>> = [];
      for (let offset = 1; offset <= 3; offset++) {
        const value = { offset };
        const record = raw('t', offset);
        refs.push(new WeakRef(value), new WeakRef(record));
        r.take(`k${offset}`, value, record, 0, undefined);
      }
      return refs;
    };
    const refs = takeWatched();
    // The last record taken is kept (for the next one's idempotency key): one of the slow key's.
    r.take('slow', 'second', raw('t', 4), 0, undefined);
    await sleep(5);
    r.resume();
    expect(passed.map((j) => j.raw.offset)).to.deep.equal([1, 2, 3]);
    passed.length = 0;
    // A WeakRef's target lives at least until the current job ends.
    await new Promise(setImmediate);
    gc();
    expect(refs.filter((ref) => ref.deref() !== undefined), 'values and records passed on, still reachable').to.have.length(0);
    expect(r.position()).to.deep.equal([{ topic: 't', offset: 0 }]);
    release();
    await sleep(5);
    release();
    await sleep(5);
    r.resume();
    expect(passed.map((j) => j.value)).to.deep.equal(['first', 'second']);
    expect(r.position()).to.equal(undefined);
  });

  it('in input order, passes the records one input gave together, once every one of them finished', async () => {
    const gates = new Map<string, () => void>();
    const { runner: r, passed } = runner((value) => new Promise((resolve) => gates.set(String(value), () => resolve(value))), { ordering: 'partition' });
    // Input 10 gave two records (a flatMap upstream), input 11 one.
    const ten = raw('t', 10);
    r.take('a', 'a1', ten, 0, undefined);
    r.take('b', 'b1', ten, 0, undefined);
    r.take('c', 'c1', raw('t', 11), 0, undefined);
    gates.get('a1')!();
    gates.get('c1')!();
    await sleep(5);
    expect(r.ready).to.equal(false);
    r.resume();
    // a1 alone would be committed with the position still at 10: after a crash it would go on twice.
    expect(passed.map((j) => j.value)).to.deep.equal([]);
    expect(r.position()).to.deep.equal([{ topic: 't', offset: 10 }]);
    gates.get('b1')!();
    await sleep(5);
    expect(r.ready).to.equal(true);
    r.resume();
    expect(passed.map((j) => j.value)).to.deep.equal(['a1', 'b1', 'c1']);
    expect(r.position()).to.equal(undefined);
  });

  it('backs off exponentially up to the maximum, with jitter in the upper half', () => {
    const retry = { attempts: 10, backoffMs: 100, maxBackoffMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(retry, n, () => 1))).to.deep.equal([100, 200, 400, 800, 1_000]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(retry, n, () => 0))).to.deep.equal([50, 100, 200, 400, 500]);
  });
});
