import { expect } from 'chai';
import { ApplicationError } from '../../engine/errors.ts';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { resetApplication } from '../../engine/runtime/reset.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { bootstrapServers, createUniqueTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';

describe('application reset', function () {
  this.timeout(120_000);

  it('refuses while an instance runs, then lets the next run start from the earliest records', async () => {
    const input = await createUniqueTopic('reset-in', 2);
    const output = await createUniqueTopic('reset-out', 2);
    const applicationId = uniqueName('resettable');
    const definition = defineApplication({
      applicationId,
      keySerde: Serdes.string(),
      valueSerde: Serdes.string(),
      topology: (builder) => builder.stream<string, string>(input).repartition({ name: 'again' }).to(output),
    });
    await produceRecords(input, ['a', 'b', 'c'].map((v) => ({ key: v, value: v })));

    const first = await startApplication(definition, { applicationId });
    await waitForRecords(output, 3);
    let refused: unknown;
    await resetApplication(first.topology, { bootstrapServers: bootstrapServers() }).catch((err) => (refused = err));
    expect(refused).to.be.instanceOf(ApplicationError);
    expect((refused as Error).message).to.contain('still has 1 running instance');
    await first.close();

    const report = await resetApplication(first.topology, { bootstrapServers: bootstrapServers() });
    expect(report.deletedTopics).to.deep.equal([`${applicationId}-again-repartition`]);
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    expect(await admin.groupOffsets(applicationId)).to.deep.equal([]);
    admin.disconnect();

    const second = await startApplication(definition, { applicationId });
    try {
      const out = await waitForRecords(output, 6);
      expect(out.map((r) => text(r.value)).sort()).to.deep.equal(['a', 'a', 'b', 'b', 'c', 'c']);
    } finally {
      await second.close();
    }
  });
});
