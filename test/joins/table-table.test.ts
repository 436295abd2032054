// Table-table joins under the TestDriver: which changes make output for each kind, deletions,
// timestamps, old values reaching a re-keyed aggregation, a filtered table joined, a
// materialized (queryable, joinable) result, and the checks on what is joined. The same
// semantics are checked against Kafka Streams on a broker in test/compat/table-table-join.test.ts.
import { expect } from 'chai';
import { defineApplication, Serdes, StreamsBuilder, TestDriver, TopologyError, type Table } from 'sluice';
import type { ApplicationDefinition } from '../../engine/runtime/definition.ts';

type Topology = ApplicationDefinition['topology'];
type Kind = 'join' | 'leftJoin' | 'outerJoin';

const app = (topology: Topology) => defineApplication({ applicationId: 'table-joins-test', keySerde: Serdes.string(), valueSerde: Serdes.string(), topology });
const show = (l: string | null, r: string | null) => `${l ?? '-'}+${r ?? '-'}`;

function joined(b: StreamsBuilder, kind: Kind): Table<string, string> {
  const left = b.table<string, string>('left', { name: 'left', caching: false });
  const right = b.table<string, string>('right', { name: 'right', caching: false });
  return kind === 'join' ? left.join(right, show, { name: 'rows' }) : kind === 'leftJoin' ? left.leftJoin(right, show, { name: 'rows' }) : left.outerJoin(right, show, { name: 'rows' });
}

describe('table-table joins (TestDriver)', () => {
  const drivers: TestDriver[] = [];
  const start = async (topology: Topology) => {
    const driver = await TestDriver.create(app(topology));
    drivers.push(driver);
    return { driver, left: driver.inputTopic<string, string | null>('left'), right: driver.inputTopic<string, string | null>('right') };
  };
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.close();
  });

  /** The same changes through each kind of join. */
  const script = async ({ left, right }: Awaited<ReturnType<typeof start>>) => {
    await left.pipe('k', 'A', { timestamp: 10 });
    await right.pipe('k', 'a', { timestamp: 5 });
    await left.pipe('k', 'B', { timestamp: 20 });
    await right.pipe('k', null, { timestamp: 30 });
    await left.pipe('k', null, { timestamp: 40 });
    await right.pipe('k', 'b', { timestamp: 50 });
  };
  const expected: Record<Kind, Array<[string, string | null, number]>> = {
    join: [
      ['k', 'A+a', 10],
      ['k', 'B+a', 20],
      ['k', null, 30],
    ],
    leftJoin: [
      ['k', 'A+-', 10],
      ['k', 'A+a', 10],
      ['k', 'B+a', 20],
      ['k', 'B+-', 30],
      ['k', null, 40],
    ],
    outerJoin: [
      ['k', 'A+-', 10],
      ['k', 'A+a', 10],
      ['k', 'B+a', 20],
      ['k', 'B+-', 30],
      ['k', null, 40],
      ['k', '-+b', 50],
    ],
  };
  for (const kind of ['join', 'leftJoin', 'outerJoin'] as const) {
    it(`${kind}: a change of either side updates or deletes the joined row, at the later of the two rows' timestamps`, async () => {
      const inputs = await start((b) => joined(b, kind).toStream().to('joined'));
      await script(inputs);
      const out = inputs.driver.outputTopic<string, string | null>('joined').readRecords();
      expect(out.map((r) => [r.key, r.value, r.timestamp])).to.deep.equal(expected[kind]);
    });
  }

  it('passes old values on, so an aggregation of the joined table subtracts what a row brought before', async () => {
    const { driver, left, right } = await start((b) =>
      joined(b, 'join')
        .groupBy((_, value) => [value.split('+')[1]!, value])
        .count({ name: 'per-right', caching: false })
        .toStream()
        .to('counts', { value: Serdes.json() }),
    );
    await right.pipe('k1', 'x');
    await right.pipe('k2', 'x');
    await left.pipe('k1', 'A');
    await left.pipe('k2', 'B');
    await right.pipe('k1', 'y');
    expect(driver.outputTopic<string, number>('counts', { value: Serdes.json() }).readKeyValues()).to.deep.equal([
      ['x', 1],
      ['x', 2],
      ['x', 1],
      ['y', 1],
    ]);
  });

  it('joins a filtered table, and keeps a materialized result queryable and joinable with a stream', async () => {
    const { driver, left, right } = await start((b) => {
      const people = b.table<string, string>('left', { name: 'left' }).filter((_, name) => !name.startsWith('x'));
      const cities = b.table<string, string>('right', { name: 'right' });
      const located = people.join(cities, (name, city) => `${name}@${city}`, { name: 'located', materialized: { name: 'located-store' } });
      b.stream<string, string>('visits').join(located, (visit, where) => `${visit}: ${where}`).to('visits-out');
    });
    await left.pipe('p1', 'Ada');
    await left.pipe('p2', 'xavier');
    await right.pipe('p1', 'Paris');
    await right.pipe('p2', 'Rome');
    const visits = driver.inputTopic<string, string>('visits');
    await visits.pipe('p1', 'museum');
    await visits.pipe('p2', 'forum');
    expect(driver.outputTopic<string, string>('visits-out').readValues()).to.deep.equal(['museum: Ada@Paris']);
    expect(driver.store<string, string>('located-store').get('p1')).to.equal('Ada@Paris');
    expect(driver.store<string, string>('located-store').get('p2')).to.equal(undefined);
  });

  it('refuses to join a table with something that is not a table of the builder', () => {
    const b = new StreamsBuilder();
    const left = b.table<string, string>('left', { name: 'left' });
    expect(() => left.join({ node: 'nope' } as unknown as Table<string, string>, show)).to.throw(TopologyError, /another table/);
  });
});
