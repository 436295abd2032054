// Windowed aggregations under the TestDriver: window bounds, grace and late records, hopping,
// sliding and session windows, final results. Kafka Streams' own outputs for the same inputs are
// checked on a real broker in test/compat/windows.test.ts.
import { expect } from 'chai';
import { defineApplication, Serdes, SessionWindows, SlidingWindows, StreamsBuilder, Suppressed, TestDriver, TimeWindows, TopologyError, type Windowed } from 'sluice';
import type { ApplicationDefinition } from '../../engine/runtime/definition.ts';

type Topology = ApplicationDefinition['topology'];
const app = (topology: Topology) => defineApplication({ applicationId: 'windows-test', keySerde: Serdes.string(), valueSerde: Serdes.json(), topology });
const shown = (records: Array<{ key: Windowed<string>; value: unknown; timestamp: number }>) =>
  records.map((r) => `${r.key.key}@[${r.key.window.start},${r.key.window.end}] ${JSON.stringify(r.value)} t=${r.timestamp}`);

describe('windowed aggregations (TestDriver)', () => {
  const drivers: TestDriver[] = [];
  const start = async (topology: Topology) => {
    const driver = await TestDriver.create(app(topology));
    drivers.push(driver);
    return driver;
  };
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.close();
  });

  it('refuses window specs that cannot work when the topology is built, naming the operator and the reason', () => {
    const bad: Array<[unknown, RegExp]> = [
      [TimeWindows.ofSizeAndGrace(0, 10), /window size must be a positive number/],
      [TimeWindows.ofSizeWithNoGrace(10).advanceBy(20), /advance \(20 ms\) cannot exceed the window size \(10 ms\)/],
      [TimeWindows.ofSizeWithNoGrace(10).advanceBy(0), /advance must be a positive number/],
      [TimeWindows.ofSizeAndGrace(10, -1), /grace must be zero or a positive number/],
      [SlidingWindows.ofTimeDifferenceAndGrace(-5, 0), /time difference must be a positive number/],
      [SessionWindows.ofInactivityGapAndGrace(0, 0), /inactivity gap must be a positive number/],
      [{ size: 10 }, /windowedBy takes TimeWindows, SlidingWindows or SessionWindows/],
    ];
    for (const [spec, reason] of bad) {
      const grouped = new StreamsBuilder().stream<string, number>('in', { name: 'clicks' }).groupByKey();
      expect(() => grouped.windowedBy(spec as TimeWindows), String(reason)).to.throw(TopologyError, reason).with.property('message').that.matches(/clicks/);
    }
    const windowed = new StreamsBuilder().stream<string, number>('in').groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(60_000, 10_000));
    expect(() => windowed.count({ name: 'short', retentionMs: 1_000 })).to.throw(TopologyError, /retentionMs must be at least 70000 ms/);
  });

  it('counts per tumbling window, drops records past the grace and counts them as late', async () => {
    const driver = await start((b) =>
      b
        .stream<string, { n: number }>('in')
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(10, 5))
        .count({ name: 'counts', caching: false })
        .toStream()
        .to('out'),
    );
    const input = driver.inputTopic<string, { n: number }>('in');
    for (const [key, t] of [['a', 1], ['a', 9], ['b', 10], ['a', 12], ['a', 8], ['a', 16], ['a', 5], ['a', 14]] as const) await input.pipe(key, { n: 1 }, { timestamp: t });
    expect(shown(driver.outputTopic<Windowed<string>, number>('out').readRecords())).to.deep.equal([
      'a@[0,10] 1 t=1',
      'a@[0,10] 2 t=9',
      'b@[10,20] 1 t=10',
      'a@[10,20] 1 t=12',
      // stream time 12, grace 5: [0,10) closes at 15
      'a@[0,10] 3 t=9',
      'a@[10,20] 2 t=16',
      // a@5 is late (stream time 16 ≥ 10 + 5)
      'a@[10,20] 3 t=16',
    ]);
  });

  it('windows by the time a timestamp extractor reads, and sends a record whose time cannot be read to the error handling', async () => {
    type Envelope = { event_type: string; timestamp: string };
    const driver = await start((b) =>
      b
        .stream<string, Envelope>('events', { timestampExtractor: (r) => Date.parse(r.value.timestamp), onDeserializationError: { deadLetterTopic: 'bad-events' } })
        .groupBy((_, e) => e.event_type)
        .windowedBy(TimeWindows.ofSizeAndGrace(60_000, 30_000))
        .count({ name: 'rates', caching: false })
        .toStream()
        .to('rates'),
    );
    const input = driver.inputTopic<string, Envelope>('events');
    await input.pipe('e1', { event_type: 'click', timestamp: '2026-01-01T00:00:59.000Z' }, { timestamp: 5 });
    await input.pipe('e2', { event_type: 'click', timestamp: 'not a time' }, { timestamp: 6 });
    await input.pipe('e3', { event_type: 'click', timestamp: '2026-01-01T00:01:00.000Z' }, { timestamp: 7 });
    const minute = Date.UTC(2026, 0, 1);
    expect(shown(driver.outputTopic<Windowed<string>, number>('rates').readRecords())).to.deep.equal([
      `click@[${minute},${minute + 60_000}] 1 t=${minute + 59_000}`,
      `click@[${minute + 60_000},${minute + 120_000}] 1 t=${minute + 60_000}`,
    ]);
    const dead = driver.outputTopic<string, Envelope>('bad-events').readRecords();
    expect(dead.map((r) => r.key)).to.deep.equal(['e2']);
  });

  it('sends a record with a negative timestamp to the operator\'s error handling, never to window 0', async () => {
    const driver = await TestDriver.create(
      defineApplication({
        applicationId: 'windows-negative',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        onProcessingError: { deadLetterTopic: 'bad' },
        topology: (b) => b.stream<string, number>('in').groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count({ name: 'c', caching: false }).toStream().to('out'),
      }),
    );
    drivers.push(driver);
    await driver.inputTopic<string, number>('in').pipe('k', 1, { timestamp: -5 });
    expect(driver.outputTopic('out').readRecords()).to.have.length(0);
    expect(driver.outputTopic<string, number>('bad').readKeyValues()).to.deep.equal([['k', 1]]);
  });

  it('puts a record in every hopping window it falls in', async () => {
    const driver = await start((b) =>
      b.stream<string, number>('in').groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(10).advanceBy(5)).count({ name: 'hops', caching: false }).toStream().to('out'),
    );
    await driver.inputTopic<string, number>('in').pipe('k', 1, { timestamp: 12 });
    expect(shown(driver.outputTopic<Windowed<string>, number>('out').readRecords())).to.deep.equal(['k@[5,15] 1 t=12', 'k@[10,20] 1 t=12']);
  });

  it('emits one final result per window once it closes', async () => {
    const driver = await start((b) =>
      b
        .stream<string, number>('in')
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(10, 5))
        .count({ name: 'counts' })
        .suppress(Suppressed.untilWindowCloses())
        .toStream()
        .to('out'),
    );
    const input = driver.inputTopic<string, number>('in');
    for (const [key, t] of [['a', 1], ['b', 2], ['a', 9], ['a', 14], ['b', 15], ['a', 30]] as const) await input.pipe(key, 1, { timestamp: t });
    expect(shown(driver.outputTopic<Windowed<string>, number>('out').readRecords())).to.deep.equal(['a@[0,10] 2 t=9', 'b@[0,10] 1 t=2', 'a@[10,20] 1 t=14', 'b@[10,20] 1 t=15']);
  });

  it('sends a window\'s final result once when, within one commit, its last update came before a later window\'s that closes it', async () => {
    const driver = await start((b) =>
      b.stream<string, number>('in').groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(10, 5)).count({ name: 'counts', emit: 'final' }).toStream().to('out'),
    );
    const input = driver.inputTopic<string, number>('in');
    await input.pipe('k', 1, { timestamp: 8 }); // [0,10) = 1, committed: the suppression holds it
    // One commit: [10,20) first changes, then [0,10) (still open), then [10,20) again at 19, which
    // closes [0,10). The cache passes them on in the order of their last changes, so [0,10) = 2
    // reaches the suppression before the update that closes it.
    await input.pipeMany([
      ['k', 1, { timestamp: 12 }],
      ['k', 1, { timestamp: 9 }],
      ['k', 1, { timestamp: 19 }],
    ]);
    expect(shown(driver.outputTopic<Windowed<string>, number>('out').readRecords())).to.deep.equal(['k@[0,10] 2 t=9']);
  });

  it('sends one final result per session, even for a session merged at the moment it would close', async () => {
    const driver = await start((b) =>
      b
        .stream<string, number>('in')
        .groupByKey()
        .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(5))
        // Kept longer than gap + grace, so that the store still holds a session as it closes.
        .count({ name: 'visits', emit: 'final', retentionMs: 60 })
        .toStream()
        .to('out', { key: Serdes.sessionWindowed(Serdes.string()) }),
    );
    const input = driver.inputTopic<string, number>('in');
    // x@5 brings stream time to 5, where s's session [0,0] ends exactly gap + grace before it:
    // s@5 may still join it. Kafka Streams has already emitted [0,0] then, and emits [0,5] later.
    for (const [key, t] of [['s', 0], ['x', 5], ['s', 5], ['z', 100]] as const) await input.pipe(key, 1, { timestamp: t });
    expect(shown(driver.outputTopic<Windowed<string>, number>('out', { key: Serdes.sessionWindowed(Serdes.string()) }).readRecords())).to.deep.equal(['s@[0,5] 2 t=5', 'x@[5,5] 1 t=5']);
  });

  it('merges the sessions a record bridges that the store still holds, deleting them', async () => {
    const driver = await start((b) =>
      b
        .stream<string, number>('in')
        .groupByKey()
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(5, 0))
        .aggregate(() => 0, (_, v, sum) => sum + v, (_, x, y) => x + y, { name: 'sessions', caching: false })
        .toStream()
        .to('out', { key: Serdes.sessionWindowed(Serdes.string()) }),
    );
    const input = driver.inputTopic<string, number>('in');
    for (const [t, v] of [[0, 1], [10, 2], [5, 4], [3, 8]] as const) await input.pipe('s', v, { timestamp: t });
    expect(shown(driver.outputTopic<Windowed<string>, number | null>('out', { key: Serdes.sessionWindowed(Serdes.string()) }).readRecords())).to.deep.equal([
      's@[0,0] 1 t=0',
      's@[10,10] 2 t=10',
      // The store keeps sessions ending after 10 - (gap 5 + grace 0): [0,0] is gone, so 5 joins [10,10] only.
      's@[10,10] null t=10',
      's@[5,10] 6 t=10',
      // 3 bridges nothing the store holds but [5,10]: merged into [3,10].
      's@[5,10] null t=10',
      's@[3,10] 14 t=10',
    ]);
  });

  it('keeps sliding windows: the left window of each record and right windows as later records come', async () => {
    const driver = await start((b) =>
      b.stream<string, number>('in').groupByKey().windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(10, 100)).count({ name: 'sliding', caching: false }).toStream().to('out'),
    );
    const input = driver.inputTopic<string, number>('in');
    for (const t of [20, 25, 40]) await input.pipe('k', 1, { timestamp: t });
    expect(shown(driver.outputTopic<Windowed<string>, number>('out').readRecords())).to.deep.equal([
      'k@[10,20] 1 t=20',
      // The previous record's right window first, then this record's left window.
      'k@[21,31] 1 t=25',
      'k@[15,25] 2 t=25',
      // 25's right window (25, 35] holds nothing: not created.
      'k@[30,40] 1 t=40',
    ]);
  });
});
