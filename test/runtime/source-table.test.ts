// A table over a topic is restored only up to the group's committed offset, as Kafka Streams
// restores it: the records after that offset are processed, and each sees the key's value
// before it as its old value.
import { expect } from 'chai';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import type { RestoreProgress } from '../../engine/runtime/task/restore.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { createUniqueTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

type Price = { price: number };

function expensive(input: string, output: string) {
  return defineApplication({
    applicationId: 'expensive',
    keySerde: Serdes.string(),
    valueSerde: Serdes.json(),
    topology: (builder) =>
      builder
        // Without the cache every update goes downstream, so each old value shows.
        .table<string, Price>(input, { name: 'prices', caching: false })
        .filter((_, v) => v.price >= 50)
        .toStream()
        .to(output),
  });
}

const price = (key: string, value: number) => ({ key, value: JSON.stringify({ price: value }) });
const shown = async (topic: string) => (await readAll(topic)).map((r) => `${text(r.key)}=${text(r.value)}`);

describe('a table over a topic', function () {
  this.timeout(120_000);

  it('is restored only up to the committed offset, so each update sees the right old value', async () => {
    const input = await createUniqueTopic('prices', 1, { 'cleanup.policy': 'compact' });
    const output = await createUniqueTopic('expensive', 1);
    const applicationId = uniqueName('expensive');
    const stateDir = tempStateDir();
    const progress: RestoreProgress[] = [];
    const restored = () => progress.filter((p) => p.done).reduce((n, p) => n + p.restored, 0);
    await produceRecords(input, [price('a', 10), price('a', 90)]);

    // First run, no committed offset: nothing is restored, both records are processed, each with
    // the key's value before it as its old value (Sluice restored the table to the topic's end,
    // so a→10 saw a→90 as its old value and went on as a deletion of it).
    let app = await startApplication(expensive(input, output), { applicationId, stateDir, onRestoreProgress: (p) => progress.push(p) });
    await waitForRecords(output, 1);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await app.close();
    expect(await shown(output)).to.deep.equal(['a={"price":90}']);
    expect(restored()).to.equal(0);

    // Second run, on another machine's (empty) state, after more records: the table is restored
    // to the committed offset (2 records), not to the topic's end, and the rest is processed.
    await produceRecords(input, [price('b', 10), price('b', 95), price('a', 20)]);
    progress.length = 0;
    app = await startApplication(expensive(input, output), { applicationId, stateDir: tempStateDir(), onRestoreProgress: (p) => progress.push(p) });
    await waitForRecords(output, 3);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await app.close();
    expect(restored(), 'restored to the committed offset').to.equal(2);
    expect(await shown(output)).to.deep.equal(['a={"price":90}', 'b={"price":95}', 'a=null']);

    // Third run on the first state (two records behind): it catches up to the committed offset.
    progress.length = 0;
    app = await startApplication(expensive(input, output), { applicationId, stateDir, onRestoreProgress: (p) => progress.push(p) });
    await produceRecords(input, [price('c', 70)]);
    await waitForRecords(output, 4);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await app.close();
    expect(restored(), 'the tail up to the committed offset').to.equal(3);
    expect(await shown(output)).to.deep.equal(['a={"price":90}', 'b={"price":95}', 'a=null', 'c={"price":70}']);
  });
});
