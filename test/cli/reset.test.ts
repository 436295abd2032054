import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { waitForRecords } from '../helpers/app.ts';
import { sluice } from '../helpers/cli.ts';
import { childInstances, Instance } from '../helpers/instances.ts';
import { bootstrapServers, createUniqueTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';

const COUNTER = path.join('test', 'fixtures', 'topologies', 'counter.ts');

describe('sluice reset', function () {
  this.timeout(180_000);
  const instances = childInstances();

  it('says what it deleted and what it left, and deletes the output topics named with --output-topics', async () => {
    const input = await createUniqueTopic('cli-reset-in', 2);
    const output = await createUniqueTopic('cli-reset-out', 2);
    const unrelated = await createUniqueTopic('cli-reset-other', 1);
    const applicationId = uniqueName('cli-reset');
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-reset-'));
    const env = { COUNT_INPUT: input, COUNT_OUTPUT: output };
    const instance = new Instance('counter', [COUNTER, '--application-id', applicationId, '--state-dir', stateDir], env);
    instances.push(instance);
    await instance.waitUntilRunning();
    await produceRecords(input, [{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'a', value: '3' }]);
    await waitForRecords(output, 3);
    instance.child.kill('SIGTERM');
    expect((await instance.exited).code).to.equal(0);

    const flags = ['--application-id', applicationId, '--state-dir', stateDir];
    const reset = await sluice(['reset', COUNTER, ...flags], { env });
    expect(reset.status, reset.stderr).to.equal(0);
    const changelog = `${applicationId}-counts-changelog`;
    expect(reset.stdout).to.contain(`Reset ${applicationId}:\n`);
    expect(reset.stdout).to.contain(`  deleted    committed offsets: those of group ${applicationId} (the next run starts from the earliest records)\n`);
    expect(reset.stdout).to.contain(`  deleted    internal topics: ${changelog}\n`);
    expect(reset.stdout).to.contain(`  deleted    local state: ${path.join(stateDir, applicationId)}\n`);
    expect(reset.stdout).to.contain(`  untouched  source topics: ${input} (the next run reads them again)\n`);
    expect(reset.stdout).to.contain(`  untouched  output topics: ${output} (the next run appends to them; --output-topics deletes them)\n`);
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    try {
      let topics = await admin.listTopics();
      expect(topics).to.include(output).and.include(input);
      expect(topics).to.not.include(changelog);

      for (const [named, reason] of [[input, `which ${applicationId} reads`], [unrelated, `which ${applicationId} does not write; its output topics are: ${output}`]]) {
        const refused = await sluice(['reset', COUNTER, ...flags, '--output-topics', named!], { env });
        expect(refused.status).to.equal(1);
        expect(refused.stderr).to.contain(reason).and.contain('[SLUICE_CONFIG]');
      }
      expect(await admin.listTopics()).to.include(input).and.include(unrelated).and.include(output);

      const again = await sluice(['reset', COUNTER, ...flags, '--output-topics', output], { env });
      expect(again.status, again.stderr).to.equal(0);
      expect(again.stdout).to.contain(`  deleted    committed offsets: none were committed\n`);
      expect(again.stdout).to.contain(`  deleted    output topics: ${output} (2 partitions)\n`);
      expect(again.stdout).to.contain('  untouched  output topics: none\n');
      expect(again.stdout).to.contain(`Create the output topics again before the next run, e.g.: sluice topics create ${output} --partitions 2\n`);
      topics = await admin.listTopics();
      expect(topics).to.not.include(output);
      expect(topics).to.include(input);
    } finally {
      admin.disconnect();
    }
  });
});
