import { expect } from 'chai';
import { TestDriver } from 'sluice';
import type { Strategy } from 'sluice/mutations';
import definition, { DEFAULT_SETTINGS, mutationAggregator, mutationTopics } from '../../topologies/mutation-aggregator.ts';
import { generateMutations } from '../../topologies/lib/mutation-generator.ts';
import { connectedClient, expectEntities, expectStatuses, freshSchema } from '../helpers/mutations.ts';

describe('TestDriver running topologies/mutation-aggregator.ts (real PostgreSQL, no broker)', function () {
  this.timeout(120_000);
  const client = connectedClient();

  // Each strategy on a workload of its own: the operator and the reference model (the same pure
  // rules, decided in log order) must agree on every entity and every status.
  const cases: Array<[Strategy, number]> = [
    ['last-writer-wins', 5],
    ['first-writer-wins', 6],
    ['priority', 7],
    ['merge', 8],
  ];
  for (const [strategy, seed] of cases) {
    it(`${strategy}: the reference model and one terminal status per mutation, the clock driving windows, lingers and dependency timeouts`, () => runAggregator(strategy, seed));
  }

  async function runAggregator(strategy: Strategy, seed: number): Promise<void> {
    const { url } = await freshSchema(client());
    const topics = mutationTopics();
    const dependencyTimeoutMs = 5_000;
    const driver = await TestDriver.create({ ...definition, topology: (builder) => mutationAggregator(builder, topics, { ...DEFAULT_SETTINGS, strategy, dependencyTimeoutMs, databaseUrl: url }) }, { startTimeMs: 1_000_000 });
    try {
      const generated = generateMutations({ edgeNodes: 50, entities: 200, mutations: 3_000, duplicates: 0.05, stale: 0.15, dependent: 0.1, orphans: 3, seed, strategy });
      expect(generated.conflicts, 'conflicts in the workload').to.be.greaterThan(50);
      const input = driver.inputTopic<string, Buffer>(topics.input);
      // Batches of 250 records as the consumer would hand them over, 10 ms of wall clock apart.
      for (let i = 0; i < generated.records.length; i += 250) {
        await input.pipeMany(generated.records.slice(i, i + 250).map((r) => [r.key, Buffer.from(r.value)] as [string, Buffer]));
        await driver.advanceWallClockTime(10);
      }
      // The prioritizing window and the batch linger pass; the orphans wait for their dependencies.
      await driver.advanceWallClockTime(100);
      const statuses = driver.outputTopic<string, { mutation_id: string; status: string }>(topics.statuses);
      const early = statuses.readValues();
      expect(early.length, 'every mutation but the orphans decided').to.equal(generated.expected.size + generated.duplicatesSent - 3);
      expect(driver.outputTopic(topics.deadLetter).size).to.equal(0);
      // Past the dependency timeout: the orphans fail and go to the dead-letter topic.
      await driver.advanceWallClockTime(dependencyTimeoutMs);
      expectStatuses([...early, ...statuses.readValues()], generated);
      await expectEntities(client(), generated);
      const dead = driver.outputTopic<string, { mutation: { id: string } }>(topics.deadLetter).readValues();
      expect(dead.map((d) => d.mutation.id).sort()).to.deep.equal(['orphan0', 'orphan1', 'orphan2']);
      expect(await driver.store('open-conflicts').all(), 'last-writer-wins leaves no conflict open').to.deep.equal([]);
    } finally {
      await driver.close();
    }
  }
});
