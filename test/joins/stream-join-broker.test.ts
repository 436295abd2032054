// A stream-stream join over inputs written before it starts, on a real broker: each order meets
// its payment (2 ms later, same key) whatever order the consumer's fetches bring the two topics
// in. With six partitions a topic and a fetch of 1 MB, the first fetches bring one topic for a
// while; a task that went on without the other after a second processed its orders ahead of
// their payments and lost the matches.
import { expect } from 'chai';
import { defineApplication, JoinWindows, Serdes } from 'sluice';
import { runSluice } from '../helpers/kafka-streams.ts';
import { RECENT_HOUR, createUniqueTopic, produceRecords, readAll, uniqueName, type TestRecord } from '../helpers/kafka.ts';

const RECORDS = 100_000;
const KEYS = 10_000;
const PAD = 'x'.repeat(80);

describe('stream-stream joins on a broker', function () {
  this.timeout(300_000);

  it('finds every pair in inputs written before it starts, whichever topic the fetches bring first', async () => {
    const [orders, payments, output] = await Promise.all([createUniqueTopic('orders', 6), createUniqueTopic('payments', 6), createUniqueTopic('paid', 6)]);
    // Record i of each side has key i mod KEYS, so a key's records are 50 s apart: only an order
    // and its own payment (2 ms later) are within the 10 s window.
    const side = (what: string, offsetMs: number): TestRecord[] =>
      Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i % KEYS}`, value: JSON.stringify({ [what]: i, pad: PAD }), timestamp: RECENT_HOUR + i * 5 + offsetMs }));
    await produceRecords(orders, side('order', 0));
    await produceRecords(payments, side('payment', 2));
    const applicationId = uniqueName('paid');
    const definition = defineApplication({
      applicationId,
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (b) =>
        b
          .stream<string, { order: number }>(orders)
          .join(b.stream<string, { payment: number }>(payments), (o, p) => `${o.order}:${p.payment}`, JoinWindows.ofTimeDifferenceWithNoGrace(10_000), { name: 'paid' })
          .to(output, { value: Serdes.string() }),
    });
    await runSluice(definition, { applicationId, inputs: [orders, payments], output });
    const pairs = (await readAll(output)).map((r) => r.value!.toString());
    const wrong = pairs.filter((p) => p.split(':')[0] !== p.split(':')[1]);
    expect({ pairs: pairs.length, distinct: new Set(pairs).size, wrong: wrong.length }).to.deep.equal({ pairs: RECORDS, distinct: RECORDS, wrong: 0 });
  });
});
