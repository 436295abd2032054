import { expect } from 'chai';
import definition, { DEFAULT_SETTINGS, mutationAggregator, mutationTopics, type MutationTopics } from '../../topologies/mutation-aggregator.ts';
import { generateMutations, type GeneratedMutations } from '../../topologies/lib/mutation-generator.ts';
import { startApplication, text } from '../helpers/app.ts';
import { childInstances, Instance } from '../helpers/instances.ts';
import { createTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';
import { connectedClient, expectEntities, expectStatuses, freshSchema } from '../helpers/mutations.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function createTopics(topics: MutationTopics): Promise<void> {
  for (const topic of Object.values(topics)) await createTopic(topic, 3);
}

/** Reads `mutation-status` (committed) until every mutation has a terminal status and every duplicate its DUPLICATE. */
async function waitForStatuses(topic: string, generated: GeneratedMutations, timeoutMs: number) {
  const want = generated.expected.size + generated.duplicatesSent;
  const deadline = Date.now() + timeoutMs;
  let statuses: Array<{ mutation_id: string; status: string; reason?: string }> = [];
  while (Date.now() < deadline) {
    statuses = (await readAll(topic, 'read_committed')).map((r) => JSON.parse(text(r.value)!));
    if (statuses.length >= want) break;
    await sleep(1_000);
  }
  return statuses;
}

describe('topologies/mutation-aggregator.ts (real broker, real PostgreSQL)', function () {
  this.timeout(600_000);
  const client = connectedClient();
  const instances = childInstances();

  it('50 edge nodes on 1,000 entities with duplicates, conflicts and dependencies: entities equal the reference model, and every mutation gets exactly one terminal status', async () => {
    const { url } = await freshSchema(client());
    const prefix = `${uniqueName('agg')}-`;
    const topics = mutationTopics(prefix);
    await createTopics(topics);
    const generated = generateMutations({ edgeNodes: 50, entities: 1_000, mutations: 20_000, duplicates: 0.05, stale: 0.15, dependent: 0.1, orphans: 5, seed: 3 });
    expect(generated.conflicts, 'conflicts in the workload').to.be.greaterThan(500);
    expect([...generated.expected.values()].filter((s) => s === 'REJECTED').length, 'rejections in the workload').to.be.greaterThan(10);
    await produceRecords(topics.input, generated.records);
    const app = await startApplication(
      { ...definition, topology: (builder) => mutationAggregator(builder, topics, { ...DEFAULT_SETTINGS, dependencyTimeoutMs: 3_000, databaseUrl: url }) },
      { applicationId: `${prefix}aggregator`, stateDir: tempStateDir() },
    );
    try {
      const statuses = await waitForStatuses(topics.statuses, generated, 240_000);
      expectStatuses(statuses, generated);
      await expectEntities(client(), generated);
      const dead = await readAll(topics.deadLetter);
      expect(dead.map((r) => JSON.parse(text(r.value)!).mutation.id).sort()).to.deep.equal(['orphan0', 'orphan1', 'orphan2', 'orphan3', 'orphan4']);
    } finally {
      await app.close();
    }
  });

  it('kill -9 while batches are being applied, then a restart: no batch applied twice, none lost, one terminal status each', async () => {
    const { url } = await freshSchema(client());
    const prefix = `${uniqueName('aggkill')}-`;
    const topics = mutationTopics(prefix);
    await createTopics(topics);
    const generated = generateMutations({ edgeNodes: 50, entities: 1_000, mutations: 30_000, duplicates: 0.05, stale: 0.15, dependent: 0.1, orphans: 0, seed: 8 });
    const args = ['topologies/mutation-aggregator.ts', '--application-id', `${prefix}aggregator`, '--state-dir', tempStateDir()];
    const env = { MUTATION_TOPIC_PREFIX: prefix, DATABASE_URL: url, MUTATION_DEPENDENCY_TIMEOUT_MS: '3000' };
    const first = new Instance('aggregator-1', args, env);
    instances.push(first);
    await first.waitUntilRunning();
    await produceRecords(topics.input, generated.records);
    // Kill it once a good part of the batches is in the database and more are being written.
    for (;;) {
      const { rows } = await client().query('SELECT count(*)::int AS n FROM entity_writes');
      if (rows[0].n > 3_000) break;
      await sleep(50);
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const written = (await client().query('SELECT count(*)::int AS n FROM entity_writes')).rows[0].n;
    const second = new Instance('aggregator-2', args, env);
    instances.push(second);
    const statuses = await waitForStatuses(topics.statuses, generated, 300_000);
    expectStatuses(statuses, generated);
    await expectEntities(client(), generated);
    const total = (await client().query('SELECT count(*)::int AS n FROM entity_writes')).rows[0].n;
    expect(written, 'rows written before the kill, of all').to.be.lessThan(total);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).to.equal(0);
  });
});
