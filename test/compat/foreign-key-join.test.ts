// Foreign-key joins give what Kafka Streams gives for the same input, record for record: the
// Java scenarios `fk-join` and `fk-left-join` (bench/systems/kafka-streams, Scenarios.java),
// order lines joined on their product, beside Sluice's topology below, both with the record
// cache off. The two tables are read by different tasks, whose progress interleaves as it
// happens, so the input comes in phases, one table at a time, both restarting between them:
// rows added, a foreign key missing, null, changed and deleted, products added, updated and
// deleted.
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { buildKafkaStreams, SideBySide } from '../helpers/kafka-streams.ts';
import { RECENT_HOUR, createUniqueTopic, produceRecords, type TestRecord } from '../helpers/kafka.ts';

interface Line {
  item: string;
  product: string | null;
}

function lineProducts(left: boolean) {
  return (inputs: string[], output: string) =>
    defineApplication({
      applicationId: 'fk-join',
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (builder) => {
        const lines = builder.table<string, Line>(inputs[0]!, { name: 'lines', caching: false });
        const products = builder.table<string, string>(inputs[1]!, { name: 'products', caching: false });
        const show = (line: Line, product: string | null) => `${line.item}+${product ?? '-'}`;
        const materialized = { name: 'lines-with-products', caching: false };
        const joined = left
          ? lines.leftJoin(products, (line) => line.product, show, { name: 'with-product', materialized })
          : lines.join(products, (line) => line.product, show, { name: 'with-product', materialized });
        joined.toStream().to(output);
      },
    });
}

const T0 = RECENT_HOUR;
const at = (key: string, value: unknown, second: number): TestRecord => ({ key, value: value === null ? null : JSON.stringify(value), timestamp: T0 + second * 1_000 });
const PHASES: Array<{ lines?: TestRecord[]; products?: TestRecord[] }> = [
  { products: [at('p1', 'Pen', 1), at('p2', 'Ink', 2)] },
  { lines: [at('l1', { item: 'a', product: 'p1' }, 3), at('l2', { item: 'b', product: 'p3' }, 4), at('l3', { item: 'c', product: null }, 5)] },
  { products: [at('p3', 'Cup', 6), at('p1', 'Pen 2', 7)] },
  { lines: [at('l1', { item: 'a', product: 'p2' }, 8), at('l2', null, 9), at('l4', { item: 'd', product: 'p3' }, 10)] },
  { products: [at('p2', null, 11), at('p1', 'Pen 3', 12), at('p3', 'Cup 2', 13)] },
  { lines: [at('l3', { item: 'c2', product: 'p1' }, 14), at('l4', { item: 'd2', product: 'p3' }, 15), at('l4', null, 16)] },
];

describe('compat: foreign-key joins beside Kafka Streams', function () {
  this.timeout(300_000);

  before(async function () {
    this.timeout(600_000); // the first build downloads Kafka Streams and Maven's plugins
    await buildKafkaStreams();
  });

  for (const [scenario, left, guarantee] of [['fk-join', false, undefined], ['fk-left-join', true, undefined], ['fk-left-join', true, 'exactly_once']] as const) {
    it(`${scenario}: writes what Kafka Streams writes as rows, their foreign keys and the rows they point to change${guarantee ? ', under exactly-once' : ''}`, async () => {
      const [lines, products] = await Promise.all([createUniqueTopic('lines', 1, { 'cleanup.policy': 'compact' }), createUniqueTopic('products', 1, { 'cleanup.policy': 'compact' })]);
      const both = await SideBySide.create({ scenario, inputs: [lines, products], sluice: lineProducts(left), ...(guarantee ? { guarantee } : {}) });
      for (const phase of PHASES) {
        await produceRecords(lines, phase.lines ?? []);
        await produceRecords(products, phase.products ?? []);
        await both.run();
      }
      await both.expectSameOutput();
    });
  }
});
