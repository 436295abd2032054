// Foreign-key joins under the TestDriver: rows joined with the row their foreign key names, as
// that row changes, as the foreign key changes or is null, and as rows are deleted; stale answers
// dropped; the internal topics and their sizes. The same semantics are checked against Kafka
// Streams on a broker in test/compat/foreign-key-join.test.ts.
import { expect } from 'chai';
import { defineApplication, Serdes, StreamsBuilder, TestDriver, TopologyError } from 'sluice';
import { compile } from '../../engine/topology/compile.ts';
import { describeJson } from '../../engine/topology/describe.ts';
import type { ApplicationDefinition } from '../../engine/runtime/definition.ts';

type Topology = ApplicationDefinition['topology'];
interface Line {
  item: string;
  product: string | null;
}

const app = (topology: Topology) => defineApplication({ applicationId: 'fk-joins-test', keySerde: Serdes.string(), valueSerde: Serdes.json(), topology });

function withProducts(left: boolean) {
  return (b: StreamsBuilder) => {
    const lines = b.table<string, Line>('lines', { name: 'lines', caching: false });
    const products = b.table<string, string>('products', { name: 'products', caching: false });
    const show = (line: Line, product: string | null) => `${line.item}+${product ?? '-'}`;
    const materialized = { name: 'lines-with-products', caching: false };
    (left ? lines.leftJoin(products, (line) => line.product, show, { name: 'wp', materialized }) : lines.join(products, (line) => line.product, show, { name: 'wp', materialized }))
      .toStream()
      .to('joined');
  };
}

describe('foreign-key joins (TestDriver)', () => {
  const drivers: TestDriver[] = [];
  const start = async (topology: Topology) => {
    const driver = await TestDriver.create(app(topology));
    drivers.push(driver);
    const lines = driver.inputTopic<string, Line | null>('lines');
    const products = driver.inputTopic<string, string | null>('products');
    const out = () => driver.outputTopic<string, string | null>('joined').readRecords().map((r) => [r.key, r.value, r.timestamp]);
    return { driver, lines, products, out };
  };
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.close();
  });

  it('join: follows the product as it changes, the line as its product changes, and deletes the joined row with either', async () => {
    const { lines, products, out } = await start(withProducts(false));
    await products.pipe('p1', 'Pen', { timestamp: 1 });
    await lines.pipe('l1', { item: 'a', product: 'p1' }, { timestamp: 2 });
    await lines.pipe('l2', { item: 'b', product: 'p2' }, { timestamp: 3 });
    await products.pipe('p2', 'Ink', { timestamp: 4 });
    await products.pipe('p1', 'Pen 2', { timestamp: 5 });
    await lines.pipe('l1', { item: 'a', product: 'p2' }, { timestamp: 6 });
    await products.pipe('p1', 'Pen 3', { timestamp: 7 });
    await products.pipe('p2', null, { timestamp: 8 });
    await lines.pipe('l3', { item: 'c', product: null }, { timestamp: 9 });
    expect(out()).to.deep.equal([
      ['l1', 'a+Pen', 2],
      ['l2', 'b+Ink', 4],
      ['l1', 'a+Pen 2', 5],
      ['l1', 'a+Ink', 6],
      ['l1', null, 8],
      ['l2', null, 8],
    ]);
  });

  it('leftJoin: a line with no product, or a null foreign key, is joined with null; a deleted line is deleted', async () => {
    const { driver, lines, products, out } = await start(withProducts(true));
    await lines.pipe('l1', { item: 'a', product: 'p9' }, { timestamp: 1 });
    await lines.pipe('l2', { item: 'b', product: null }, { timestamp: 2 });
    await products.pipe('p9', 'Cup', { timestamp: 3 });
    await lines.pipe('l1', null, { timestamp: 4 });
    expect(out()).to.deep.equal([
      ['l1', 'a+-', 1],
      ['l2', 'b+-', 2],
      ['l1', 'a+Cup', 3],
      ['l1', null, 4],
    ]);
    expect(driver.store<string, string>('lines-with-products').get('l2')).to.equal('b+-');
  });

  it('sends subscriptions and answers through two internal topics, each sized like the table it reaches', () => {
    const builder = new StreamsBuilder();
    withProducts(false)(builder);
    const compiled = compile(builder.build(), { applicationId: 'fk-joins-test', keySerde: Serdes.string(), valueSerde: Serdes.json() });
    const described = describeJson(compiled);
    const topicsOf = (node: string) => described.subtopologies.find((s) => s.nodes.some((n) => n.name === node))!.nodes.flatMap((n) => n.topics ?? []);
    expect(topicsOf('wp-subscribe')).to.include.members(['lines', 'fk-joins-test-wp-subscription-response-repartition']);
    expect(topicsOf('wp-foreign-join')).to.include.members(['products', 'fk-joins-test-wp-subscription-registration-repartition']);
  });

  it('refuses an outerJoin on a foreign key', () => {
    const b = new StreamsBuilder();
    const lines = b.table<string, Line>('lines', { name: 'lines' });
    const products = b.table<string, string>('products', { name: 'products' });
    expect(() => (lines as unknown as { outerJoin: (...args: unknown[]) => unknown }).outerJoin(products, (l: Line) => l.product, () => 'x')).to.throw(TopologyError, /outerJoin/);
  });
});
