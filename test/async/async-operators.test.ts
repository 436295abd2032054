// The async operators under the TestDriver: results, per-key and per-partition order, bounded
// concurrency, retries and time-outs on the driver's clock, failures to the error handling, the
// repartition in front of an operator fed by a cache, and options refused at build time.
import { expect } from 'chai';
import { AsyncCallFailedError, AsyncTimeoutError, DeadLetterHeaders, defineApplication, headerValue, ProcessingError, Serdes, TestDriver, TopologyError, type StreamsBuilder } from 'sluice';
import { driverStarter } from '../helpers/drivers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const app = (topology: (builder: StreamsBuilder) => void) => defineApplication({ applicationId: 'async-test', keySerde: Serdes.string(), valueSerde: Serdes.json(), topology });

describe('async operators (TestDriver)', () => {
  const start = driverStarter();

  it('mapValuesAsync forwards what the function resolves to, with the record\'s timestamp and headers', async () => {
    const driver = await start(app((b) => b.stream<string, number>('in').mapValuesAsync(async (n, key) => `${key}:${n * 2}`).to('out', { value: Serdes.string() })));
    await driver.inputTopic<string, number>('in').pipe('a', 21, { timestamp: 5_000, headers: [{ correlation_id: 'c-7' }] });
    const [record] = driver.outputTopic<string, string>('out').readRecords();
    expect([record!.key, record!.value, record!.timestamp]).to.deep.equal(['a', 'a:42', 5_000]);
    expect(headerValue(record!.headers, 'correlation_id')).to.equal('c-7');
  });

  it('runs stateful operators downstream on the task, with each record\'s timestamp', async () => {
    const driver = await start(
      app((b) =>
        b
          .stream<string, number>('in')
          .mapValuesAsync(async (n) => {
            await sleep(n % 3);
            return n;
          })
          .groupByKey()
          .reduce((sum, n) => sum + n, { name: 'sums', caching: false })
          .toStream()
          .to('sums'),
      ),
    );
    await driver.inputTopic<string, number>('in').pipeMany([1, 2, 3, 4, 5].map((n) => ['k', n, { timestamp: n * 1_000 }] as [string, number, { timestamp: number }]));
    expect(driver.outputTopic<string, number>('sums').readRecords().map((r) => [r.value, r.timestamp])).to.deep.equal([
      [1, 1_000],
      [3, 2_000],
      [6, 3_000],
      [10, 4_000],
      [15, 5_000],
    ]);
    expect(driver.store<string, number>('sums').get('k')).to.equal(15);
  });

  it('lets calls leave listeners on their signal, as fetch does until a request is collected, without a leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const driver = await start(
        app((b) =>
          b
            .stream<string, number>('in')
            .mapValuesAsync(async (n, _key, { signal }) => {
              signal.addEventListener('abort', () => undefined);
              return n;
            })
            .to('out'),
        ),
      );
      await driver.inputTopic<string, number>('in').pipeMany(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, i] as [string, number]));
      expect(driver.outputTopic<string, number>('out').readRecords()).to.have.length(2_000);
      await sleep(10);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).to.not.include('MaxListenersExceededWarning');
  });

  it("keeps each key's records in order while other keys overtake, and runs at most `concurrency` calls at once", async () => {
    let running = 0;
    let most = 0;
    const started: string[] = [];
    const driver = await start(
      app((b) =>
        b
          .stream<string, number>('in')
          .mapValuesAsync(
            async (n, key) => {
              started.push(`${key}${n}`);
              most = Math.max(most, ++running);
              // a's first record takes longest: without the per-key order a2 and a3 would overtake it.
              await sleep(key === 'a' && n === 1 ? 30 : 2);
              running--;
              return `${key}${n}`;
            },
            { concurrency: 3 },
          )
          .to('out', { value: Serdes.string() }),
      ),
    );
    await driver.inputTopic<string, number>('in').pipeMany([['a', 1], ['b', 1], ['a', 2], ['c', 1], ['d', 1], ['a', 3], ['b', 2]]);
    const out = driver.outputTopic<string, string>('out').readValues();
    expect(out).to.have.length(7);
    expect(out.filter((v) => v.startsWith('a'))).to.deep.equal(['a1', 'a2', 'a3']);
    expect(out.filter((v) => v.startsWith('b'))).to.deep.equal(['b1', 'b2']);
    expect(out.indexOf('c1'), 'other keys are not held back by a slow key').to.be.lessThan(out.indexOf('a1'));
    expect(most).to.equal(3);
    expect(started.indexOf('a2'), 'a2 starts only once a1 finished').to.be.greaterThan(started.indexOf('c1'));
  });

  it("ordering 'partition' runs calls side by side and passes outputs on in input order", async () => {
    let running = 0;
    let most = 0;
    const driver = await start(
      app((b) =>
        b
          .stream<string, number>('in')
          .mapValuesAsync(
            async (n) => {
              most = Math.max(most, ++running);
              await sleep(40 - n * 5);
              running--;
              return n;
            },
            { ordering: 'partition' },
          )
          .to('out'),
      ),
    );
    await driver.inputTopic<string, number>('in').pipeMany([1, 2, 3, 4, 5, 6].map((n) => ['k', n] as [string, number]));
    expect(driver.outputTopic<string, number>('out').readValues()).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(most, 'one key, yet the calls ran at once').to.equal(6);
  });

  it('mapAsync, flatMapAsync, filterAsync and forEachAsync', async () => {
    const seen: string[] = [];
    const driver = await start(
      app((b) => {
        const input = b.stream<string, number>('in');
        input.mapAsync(async (key, n) => [`${key}-mapped`, n + 1]).to('mapped');
        input.flatMapAsync(async (key, n) => Array.from({ length: n }, (_, i) => [`${key}${i}`, i] as [string, number])).to('flat');
        input.filterAsync(async (_, n) => n % 2 === 0).to('even');
        input.forEachAsync(async (key, n) => void seen.push(`${key}=${n}`));
      }),
    );
    await driver.inputTopic<string, number>('in').pipeMany([['a', 1], ['b', 2]]);
    expect(driver.outputTopic('mapped').readKeyValues()).to.deep.equal([['a-mapped', 2], ['b-mapped', 3]]);
    expect(driver.outputTopic('flat').readKeyValues()).to.deep.equal([['a0', 0], ['b0', 0], ['b1', 1]]);
    expect(driver.outputTopic('even').readKeyValues()).to.deep.equal([['b', 2]]);
    expect(seen).to.deep.equal(['a=1', 'b=2']);
  });

  it('retries after a back-off on the driver\'s clock, with the same idempotency key', async () => {
    const calls: Array<{ attempt: number; key: string }> = [];
    const driver = await start(
      app((b) =>
        b
          .stream<string, number>('in')
          .mapValuesAsync(
            async (n, _key, context) => {
              calls.push({ attempt: context.attempt, key: context.idempotencyKey });
              if (context.attempt < 3) throw new Error('service unavailable');
              return n;
            },
            { retry: { attempts: 3, backoffMs: 1_000, maxBackoffMs: 2_000 } },
          )
          .to('out'),
      ),
    );
    await driver.inputTopic<string, number>('in').pipe('a', 1);
    const out = driver.outputTopic<string, number>('out');
    expect(out.isEmpty, 'waiting for its back-off').to.equal(true);
    await driver.advanceWallClockTime(1_000);
    expect(calls.map((c) => c.attempt)).to.deep.equal([1, 2]);
    await driver.advanceWallClockTime(2_000);
    expect(out.readValues()).to.deep.equal([1]);
    expect(calls.map((c) => c.attempt)).to.deep.equal([1, 2, 3]);
    expect(new Set(calls.map((c) => c.key))).to.deep.equal(new Set(['in-0-0']));
  });

  it('times out a call on the driver\'s clock: its signal aborts, and the retry goes on', async () => {
    const aborted: unknown[] = [];
    const driver = await start(
      app((b) =>
        b
          .stream<string, number>('in')
          .mapValuesAsync(
            (n, _key, { attempt, signal }) =>
              attempt === 1
                ? new Promise<number>(() => signal.addEventListener('abort', () => aborted.push(signal.reason)))
                : Promise.resolve(n * 10),
            { timeoutMs: 5_000, retry: { attempts: 2, backoffMs: 0 } },
          )
          .to('out'),
      ),
      { asyncWaitMs: 50 },
    );
    await driver.inputTopic<string, number>('in').pipe('a', 4);
    const out = driver.outputTopic<string, number>('out');
    expect(out.isEmpty).to.equal(true);
    await driver.advanceWallClockTime(4_999);
    expect(aborted).to.have.length(0);
    await driver.advanceWallClockTime(1);
    expect(aborted).to.have.length(1);
    expect(aborted[0]).to.be.instanceOf(AsyncTimeoutError);
    expect(out.readValues()).to.deep.equal([40]);
  });

  it('sends a record whose every attempt failed to the dead-letter topic with its original bytes and the last error, and goes on', async () => {
    const driver = await start(
      app((b) =>
        b
          .stream<string, number>('in')
          .mapValuesAsync(
            async (n) => {
              if (n === 2) throw new Error(`no such customer ${n}`);
              return n;
            },
            { retry: { attempts: 2, backoffMs: 10 }, onError: { deadLetterTopic: 'dead' } },
          )
          .to('out'),
      ),
    );
    const input = driver.inputTopic<string, number>('in');
    await input.pipeMany([['a', 1], ['b', 2], ['c', 3]]);
    await driver.advanceWallClockTime(100);
    expect(driver.outputTopic('out').readKeyValues()).to.deep.equal([['a', 1], ['c', 3]]);
    const [dead] = driver.outputTopic('dead', { key: Serdes.bytes(), value: Serdes.bytes() }).readRecords();
    expect(dead!.value.toString()).to.equal('2');
    expect(headerValue(dead!.headers, DeadLetterHeaders.errorClass)).to.equal('AsyncCallFailedError');
    expect(headerValue(dead!.headers, DeadLetterHeaders.errorMessage)).to.contain('on all 2 attempts').and.contain('no such customer 2');
  });

  it('stops with a ProcessingError caused by an AsyncCallFailedError under `fail`', async () => {
    const driver = await start(app((b) => b.stream<string, number>('in').forEachAsync(async () => Promise.reject(new Error('boom')))));
    const failure = await driver
      .inputTopic<string, number>('in')
      .pipe('a', 1)
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(failure).to.be.instanceOf(ProcessingError);
    expect((failure as Error).cause).to.be.instanceOf(AsyncCallFailedError);
  });

  it('a function resolving to what its operator cannot forward is an invalid record', async () => {
    const driver = await start(
      app((b) =>
        b
          .stream<string, number>('in')
          .mapAsync(async () => 'not a pair' as unknown as [string, number], { onError: { deadLetterTopic: 'dead' } })
          .to('out'),
      ),
    );
    await driver.inputTopic<string, number>('in').pipe('a', 1);
    expect(driver.outputTopic('out').isEmpty).to.equal(true);
    const [dead] = driver.outputTopic('dead').readRecords();
    expect(headerValue(dead!.headers, DeadLetterHeaders.errorClass)).to.equal('InvalidRecordError');
    expect(headerValue(dead!.headers, DeadLetterHeaders.errorMessage)).to.contain('[key, value] pair');
  });

  it('reads records from a repartition topic when a cache feeds it (an aggregation upstream)', async () => {
    const topology = app((b) =>
      b
        .stream<string, number>('in')
        .groupByKey()
        .count({ name: 'counts' })
        .toStream()
        .mapValuesAsync(async (count) => count * 100, { name: 'hundreds' })
        .to('out'),
    );
    const driver = await start(topology);
    expect(driver.topology.internalTopics.map((t) => t.name).join()).to.contain('hundreds-input');
    await driver.inputTopic<string, number>('in').pipeMany([['a', 1], ['a', 1]]);
    expect(driver.outputTopic('out').readKeyValues().at(-1)).to.deep.equal(['a', 200]);
  });

  it('refuses options that make no sense, naming the operator', async () => {
    const build = (options: Record<string, unknown>) => TestDriver.create(app((b) => b.stream<string, number>('in').mapValuesAsync(async (n) => n, { name: 'enrich', ...options }).to('out')));
    for (const [options, message] of [
      [{ concurrency: 0 }, 'concurrency must be a positive integer'],
      [{ ordering: 'random' }, "ordering must be 'key' or 'partition'"],
      [{ timeoutMs: -1 }, 'timeoutMs must be a positive number'],
      [{ retry: { attempts: 0 } }, 'retry.attempts'],
    ] as const) {
      const error = await build(options).then(
        (d) => d.close(),
        (err: unknown) => err,
      );
      expect(error, JSON.stringify(options)).to.be.instanceOf(TopologyError);
      expect((error as Error).message).to.contain('enrich').and.contain(message);
    }
  });
});
