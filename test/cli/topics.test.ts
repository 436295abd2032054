import { expect } from 'chai';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { sluiceSync } from '../helpers/cli.ts';
import { bootstrapServers, produceRecords, uniqueName } from '../helpers/kafka.ts';

describe('sluice topics', function () {
  this.timeout(120_000);

  it('creates a topic with partitions and configs, lists, describes and deletes it', async () => {
    const topic = uniqueName('cli-topics');
    const created = sluiceSync(['topics', 'create', topic, '--partitions', '3', '--replication-factor', '1', '--config', 'cleanup.policy=compact', '--config', 'retention.ms=-1']);
    expect(created.status, created.stderr).to.equal(0);
    expect(created.stdout).to.equal(`Created topic ${topic} (3 partitions, replication factor 1).\n`);

    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    try {
      expect((await admin.describeTopics([topic]))[0]).to.deep.include({ name: topic, partitions: 3 });
    } finally {
      admin.disconnect();
    }

    const listed = sluiceSync(['topics', 'list', '--exclude-internal']);
    expect(listed.status, listed.stderr).to.equal(0);
    const names = listed.stdout.split('\n').filter(Boolean);
    expect(names).to.include(topic);
    expect(names.some((n) => n.startsWith('__'))).to.equal(false);
    expect(names).to.deep.equal([...names].sort());

    await produceRecords(topic, [{ key: 'a', value: '1', partition: 2 }, { key: 'b', value: '2', partition: 2 }]);
    const described = sluiceSync(['topics', 'describe', topic, '--format', 'json']);
    expect(described.status, described.stderr).to.equal(0);
    const [report] = JSON.parse(described.stdout);
    expect(report.name).to.equal(topic);
    expect(report.replicationFactor).to.equal(1);
    expect(report.partitions.map((p: { partition: number }) => p.partition)).to.deep.equal([0, 1, 2]);
    expect(report.partitions[2]).to.deep.include({ low: 0, high: 2 });
    expect(report.partitions[0].leader).to.be.a('number');
    const text = sluiceSync(['topics', 'describe', topic]);
    expect(text.stdout).to.contain(`Topic: ${topic}\tPartitions: 3\tReplicationFactor: 1\tRecords: 2`);
    expect(text.stdout).to.match(/\tPartition: 2\tLeader: \d+\tReplicas: \d+\tIsr: \d+\tOffsets: 0\.\.2/);

    const deleted = sluiceSync(['topics', 'delete', topic]);
    expect(deleted.status, deleted.stderr).to.equal(0);
    expect(deleted.stdout).to.equal(`Deleted topic ${topic}.\n`);
    expect(sluiceSync(['topics', 'list']).stdout.split('\n')).to.not.include(topic);
  });

  it('refuses an existing topic, a missing one and bad flags with typed errors', () => {
    const topic = uniqueName('cli-topics');
    expect(sluiceSync(['topics', 'create', topic, '--partitions', '2']).status).to.equal(0);
    const again = sluiceSync(['topics', 'create', topic, '--partitions', '2']);
    expect(again.status).to.equal(1);
    expect(again.stderr).to.contain(`Topic "${topic}" exists already`).and.contain('[SLUICE_TOPIC_EXISTS]');
    const tolerated = sluiceSync(['topics', 'create', topic, '--partitions', '2', '--if-not-exists']);
    expect(tolerated.status, tolerated.stderr).to.equal(0);

    const missing = uniqueName('cli-missing');
    for (const args of [['topics', 'describe', missing], ['topics', 'delete', missing]]) {
      const result = sluiceSync(args);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.contain(`Topic "${missing}" does not exist`).and.contain('[SLUICE_UNKNOWN_TOPIC]');
    }
    expect(sluiceSync(['topics', 'delete', missing, '--if-exists']).status).to.equal(0);

    const partitions = sluiceSync(['topics', 'create', uniqueName('cli-bad'), '--partitions', '0']);
    expect(partitions.stderr).to.contain('--partitions must be an integer of at least 1, not "0"').and.contain('[SLUICE_CONFIG]');
    const config = sluiceSync(['topics', 'create', uniqueName('cli-bad'), '--config', 'retention.ms']);
    expect(config.stderr).to.contain('--config takes key=value, not "retention.ms"');
    const name = sluiceSync(['topics', 'create', 'no/slashes']);
    expect(name.stderr).to.contain('"no/slashes" is not a valid topic name');
    expect(sluiceSync(['topics', 'delete', topic]).status).to.equal(0);
  });
});
