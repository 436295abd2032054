// An update a store cannot write at a commit (here: an aggregate grown too large for its
// changelog) is blamed on the record that made it so, as if the store had written every update
// at once: the records before it keep their effect, it goes to the dead-letter topic, and so
// does each later one that would grow the aggregate past the bound again.
import { expect } from 'chai';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { DeadLetterHeaders } from '../../engine/runtime/record-errors.ts';
import { headerValue } from '../../engine/processors/processor.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { createUniqueTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { readChangelog, tempStateDir } from '../helpers/state.ts';

describe('updates that cannot be written at a commit', function () {
  this.timeout(120_000);

  for (const guarantee of ['at_least_once', 'exactly_once'] as const) {
    it(`go to the handler of the record that caused them, the others applied (${guarantee})`, async () => {
      const input = await createUniqueTopic('grow-in', 1);
      const deadLetter = uniqueName('grow-dlq');
      const applicationId = uniqueName('grow');
      const app = await startApplication(
        defineApplication({
          applicationId,
          guarantee,
          keySerde: Serdes.string(),
          valueSerde: Serdes.string(),
          onProcessingError: { deadLetterTopic: deadLetter },
          // A long commit interval: every record lands in the cache before the first flush.
          commitIntervalMs: 3_000,
          topology: (builder) =>
            builder
              .stream<string, string>(input)
              .groupByKey()
              .aggregate(() => [] as string[], (_, value, parts) => [...parts, value], { name: 'parts', value: Serdes.json<string[]>() }),
        }),
        { applicationId, stateDir: tempStateDir() },
      );
      try {
        const part = (n: number) => `${n}:${'x'.repeat(300_000)}`;
        await produceRecords(input, [1, 2, 3, 4, 5].map((n) => ({ key: 'k', value: part(n) })).concat([{ key: 'other', value: 'small' }]));
        const dead = await waitForRecords(deadLetter, 2, 60_000);
        expect(dead.map((r) => headerValue(r.headers, DeadLetterHeaders.offset))).to.deep.equal(['3', '4']);
        expect(dead.map((r) => headerValue(r.headers, DeadLetterHeaders.errorClass))).to.deep.equal(['RecordTooLargeError', 'RecordTooLargeError']);
        expect(dead.map((r) => text(r.value)!.slice(0, 2))).to.deep.equal(['4:', '5:']);
        const deadline = Date.now() + 30_000;
        let logged = await readChangelog(`${applicationId}-parts-changelog`);
        while (!logged.has('other') && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 300));
          logged = await readChangelog(`${applicationId}-parts-changelog`);
        }
        expect((JSON.parse(logged.get('k')!) as string[]).map((p) => p.slice(0, 2))).to.deep.equal(['1:', '2:', '3:']);
        expect(JSON.parse(logged.get('other')!)).to.deep.equal(['small']);
        expect(app.state).to.equal('RUNNING');
      } finally {
        await app.close();
      }
    });
  }
});
