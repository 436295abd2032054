// Stream-stream joins under the TestDriver: the window's bounds on both sides, left and outer
// joins holding unmatched records until their window closes (no early null results), late and
// null-keyed records, duplicates, and the repartition a changed key needs. The same semantics are
// checked against Kafka Streams on a broker in test/compat/stream-stream-join.test.ts.
import { expect } from 'chai';
import { defineApplication, JoinWindows, Serdes, StreamsBuilder, TestDriver, TopologyError } from 'sluice';
import { compile } from '../../engine/topology/compile.ts';
import { describeJson, describeMermaid, describeText } from '../../engine/topology/describe.ts';
import type { ApplicationDefinition } from '../../engine/runtime/definition.ts';

type Topology = ApplicationDefinition['topology'];
type Kind = 'join' | 'leftJoin' | 'outerJoin';

const app = (topology: Topology) => defineApplication({ applicationId: 'stream-joins-test', keySerde: Serdes.string(), valueSerde: Serdes.string(), topology });

/** `left` joined with `right` in `windows`, each output `<left>+<right>` ("-" for none). */
function pairs(kind: Kind, windows: JoinWindows) {
  return (b: StreamsBuilder) => {
    const left = b.stream<string, string>('left');
    const right = b.stream<string, string>('right');
    const show = (l: string | null, r: string | null) => `${l ?? '-'}+${r ?? '-'}`;
    const joined = kind === 'join' ? left.join(right, show, windows, { name: 'pairs' }) : kind === 'leftJoin' ? left.leftJoin(right, show, windows, { name: 'pairs' }) : left.outerJoin(right, show, windows, { name: 'pairs' });
    joined.to('joined');
  };
}

describe('stream-stream joins (TestDriver)', () => {
  const drivers: TestDriver[] = [];
  const start = async (topology: Topology) => {
    const driver = await TestDriver.create(app(topology));
    drivers.push(driver);
    const left = driver.inputTopic<string | null, string | null>('left');
    const right = driver.inputTopic<string | null, string | null>('right');
    const out = () => driver.outputTopic<string | null, string>('joined').readRecords().map((r) => [r.key, r.value, r.timestamp]);
    return { driver, left, right, out };
  };
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.close();
  });

  it('join: pairs each record with the other stream\'s records of its key within the window, both bounds included, at the later timestamp', async () => {
    const { left, right, out } = await start(pairs('join', JoinWindows.ofTimeDifferenceWithNoGrace(10)));
    await left.pipe('k', 'A', { timestamp: 100 });
    await right.pipe('k', 'a', { timestamp: 105 });
    await right.pipe('k', 'b', { timestamp: 121 });
    await right.pipe('other', 'x', { timestamp: 106 });
    await left.pipe('k', 'B', { timestamp: 111 });
    expect(out()).to.deep.equal([
      ['k', 'A+a', 105],
      ['k', 'B+a', 111],
      ['k', 'B+b', 121],
    ]);
  });

  it('an asymmetric window: before(0) joins only the other stream\'s records at or after a left record', async () => {
    const { left, right, out } = await start(pairs('join', JoinWindows.ofTimeDifferenceWithNoGrace(10).before(0)));
    await left.pipe('k', 'A', { timestamp: 100 });
    await right.pipe('k', 'early', { timestamp: 95 });
    await right.pipe('k', 'late', { timestamp: 110 });
    await right.pipe('k', 'too-late', { timestamp: 111 });
    expect(out()).to.deep.equal([['k', 'A+late', 110]]);
  });

  it('leftJoin: an unmatched record goes out joined with null only once its window has closed, and not at all when a match comes in time', async () => {
    const { left, right, out } = await start(pairs('leftJoin', JoinWindows.ofTimeDifferenceAndGrace(10, 5)));
    await left.pipe('k1', 'A', { timestamp: 100 });
    await left.pipe('k2', 'B', { timestamp: 101 });
    // Stream time 115: A's window (to 110) is closed only after the grace (115 is not past 115).
    await right.pipe('k3', 'z', { timestamp: 115 });
    expect(out()).to.deep.equal([]);
    await right.pipe('k2', 'b', { timestamp: 108 });
    await left.pipe('k3', 'C', { timestamp: 116 });
    expect(out()).to.deep.equal([
      ['k2', 'B+b', 108],
      ['k1', 'A+-', 100],
      ['k3', 'C+z', 116],
    ]);
  });

  it('leftJoin: a record whose window closed before it came goes out at once; a null key goes out at once, a null value is dropped', async () => {
    const { driver, left, right, out } = await start(pairs('leftJoin', JoinWindows.ofTimeDifferenceWithNoGrace(10)));
    await right.pipe('k', 'r', { timestamp: 500 });
    await left.pipe('k', 'old', { timestamp: 100 });
    await left.pipe(null, 'keyless', { timestamp: 501 });
    await left.pipe('k', null, { timestamp: 502 });
    await right.pipe(null, 'keyless-right', { timestamp: 503 });
    expect(out()).to.deep.equal([
      ['k', 'old+-', 100],
      [null, 'keyless+-', 501],
    ]);
    expect(driver.droppedRecords()).to.deep.equal(new Map([['pairs-this', 1], ['pairs-other', 1]]));
  });

  it('outerJoin: unmatched records of either stream go out with the other side null, oldest first, once their windows close', async () => {
    const { left, right, out } = await start(pairs('outerJoin', JoinWindows.ofTimeDifferenceWithNoGrace(10)));
    await right.pipe('k1', 'a', { timestamp: 100 });
    await left.pipe('k2', 'B', { timestamp: 100 });
    await left.pipe('k3', 'C', { timestamp: 105 });
    await right.pipe('k3', 'c', { timestamp: 106 });
    await left.pipe('k4', 'D', { timestamp: 200 });
    expect(out()).to.deep.equal([
      ['k3', 'C+c', 106],
      // Same timestamp: Kafka Streams' order, the right stream's before the left's.
      ['k1', '-+a', 100],
      ['k2', 'B+-', 100],
    ]);
    // A record of the right stream closes the windows of both streams' held records alike.
    await left.pipe('k5', 'E', { timestamp: 205 });
    await right.pipe('k6', 'f', { timestamp: 300 });
    expect(out().slice(3)).to.deep.equal([
      ['k4', 'D+-', 200],
      ['k5', 'E+-', 205],
    ]);
  });

  it('keeps every record of a key and timestamp, and joins each', async () => {
    const { left, right, out } = await start(pairs('join', JoinWindows.ofTimeDifferenceWithNoGrace(10)));
    await left.pipe('k', 'A1', { timestamp: 100 });
    await left.pipe('k', 'A2', { timestamp: 100 });
    await right.pipe('k', 'a', { timestamp: 100 });
    expect(out().map(([, value]) => value)).to.deep.equal(['A1+a', 'A2+a']);
  });

  it('forgets records past the retention (window and grace) of the newest written', async () => {
    const { left, right, out } = await start(pairs('join', JoinWindows.ofTimeDifferenceWithNoGrace(10)));
    await left.pipe('k', 'A', { timestamp: 100 });
    await left.pipe('k', 'B', { timestamp: 125 });
    // The left store's newest is 125, retention 20: A (100) is gone, though 104 is within 10 of it.
    await right.pipe('k', 'late', { timestamp: 104 });
    expect(out()).to.deep.equal([]);
  });

  it('names its stores like Kafka Streams, reads both in one sub-topology, and repartitions a stream whose key changed', async () => {
    const topology = (b: StreamsBuilder) => {
      const left = b.stream<string, string>('left').selectKey((_, v) => v);
      left.outerJoin(b.stream<string, string>('right'), (l, r) => `${l}${r}`, JoinWindows.ofTimeDifferenceWithNoGrace(10), { name: 'pairs' }).to('joined');
    };
    const builder = new StreamsBuilder();
    topology(builder);
    const described = describeJson(compile(builder.build(), { applicationId: 'stream-joins-test', keySerde: Serdes.string(), valueSerde: Serdes.string() }));
    const joining = described.subtopologies.find((s) => s.nodes.some((n) => n.name === 'pairs-this'))!;
    expect(joining.nodes.flatMap((n) => n.topics ?? [])).to.have.members(['right', 'stream-joins-test-pairs-left-repartition']);
    expect(joining.nodes.find((n) => n.name === 'pairs-this')!.stores).to.have.members(['pairs-outer-this-join-store', 'pairs-outer-other-join-store', 'pairs-outer-shared-join-store']);
    expect(joining.copartitioned).to.have.members(['right', 'stream-joins-test-pairs-left-repartition']);
    const compiled = compile(builder.build(), { applicationId: 'stream-joins-test', keySerde: Serdes.string(), valueSerde: Serdes.string() });
    expect(describeText(compiled)).to.match(/Co-partitioned: \[.*right.*\] \(equal partition counts\)/);
    expect(describeMermaid(compiled)).to.include('(co-partitioned)');
    const { left, right, out } = await start(topology);
    await left.pipe('x', 'k', { timestamp: 100 });
    await right.pipe('k', 'r', { timestamp: 101 });
    expect(out()).to.deep.equal([['k', 'kr', 101]]);
  });

  it('sends a joiner that throws to the error handling with the record, naming the other side it was joined with', async () => {
    const driver = await TestDriver.create(
      defineApplication({
        applicationId: 'stream-joins-test',
        keySerde: Serdes.string(),
        valueSerde: Serdes.string(),
        onProcessingError: { deadLetterTopic: 'dead' },
        topology: (b) =>
          b
            .stream<string, string>('left')
            .join(b.stream<string, string>('right'), (l, r) => {
              if (r === 'bad') throw new Error('cannot pair');
              return `${l}+${r}`;
            }, JoinWindows.ofTimeDifferenceWithNoGrace(10), { name: 'pairs' })
            .to('joined'),
      }),
    );
    drivers.push(driver);
    await driver.inputTopic<string, string>('right').pipe('k', 'bad', { timestamp: 100 });
    await driver.inputTopic<string, string>('left').pipe('k', 'A', { timestamp: 105 });
    const dead = driver.outputTopic('dead', { key: Serdes.bytes(), value: Serdes.bytes() }).readRaw();
    expect(dead.map((r) => r.value!.toString())).to.deep.equal(['A']);
    const headers = Object.assign({}, ...(dead[0]!.headers ?? [])) as Record<string, Buffer>;
    expect(String(headers['sluice.error.operator'])).to.equal('pairs-this');
    expect(String(headers['sluice.error.message'])).to.match(/joiner threw joining with the right record of key "k" at 100: cannot pair/);
  });

  it('refuses a stream join without JoinWindows, or with a window that ends before it starts', () => {
    const build = (windows: unknown) => () => {
      const b = new StreamsBuilder();
      b.stream<string, string>('left').join(b.stream<string, string>('right'), (l, r) => l + r, windows as JoinWindows);
    };
    expect(build(undefined)).to.throw(TopologyError, /JoinWindows/);
    expect(build(JoinWindows.ofTimeDifferenceWithNoGrace(10).before(-20))).to.throw(TopologyError, /before/);
  });
});
