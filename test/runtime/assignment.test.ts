import { expect } from 'chai';
import { ConfigError } from '../../engine/errors.ts';
import { Application } from '../../engine/runtime/application.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { createUniqueTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each instance's task ids, once the group has kept the same ones for `stableMs`. */
async function settledTasks(apps: Application[], wanted: number, stableMs = 1_500, timeoutMs = 60_000): Promise<string[][]> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let since = Date.now();
  for (;;) {
    const tasks = apps.map((app) => app.taskIds());
    const seen = JSON.stringify(tasks);
    if (seen !== last) [last, since] = [seen, Date.now()];
    const running = apps.every((app) => app.state === 'RUNNING');
    if (running && tasks.flat().length >= wanted && Date.now() - since >= stableMs) return tasks;
    if (Date.now() > deadline) throw new Error(`the group did not settle: ${seen}`);
    await sleep(100);
  }
}

describe('partition assignment across instances (real broker)', function () {
  this.timeout(120_000);

  it('keeps co-partitioned sources of a task on one instance and spreads every sub-topology evenly', async () => {
    // Sub-topology 0 reads two topics (a task is partition p of both); sub-topology 1 reads the
    // repartition topic. A task split over two instances would run twice, on two copies of state.
    const left = await createUniqueTopic('assign-left', 6);
    const right = await createUniqueTopic('assign-right', 6);
    const output = await createUniqueTopic('assign-out', 6);
    const applicationId = uniqueName('assign');
    const definition = defineApplication({
      applicationId,
      keySerde: Serdes.string(),
      valueSerde: Serdes.string(),
      topology: (builder) =>
        builder
          .stream<string, string>(left)
          .merge(builder.stream<string, string>(right))
          .selectKey((_, value) => value)
          .repartition({ name: 'by-value' })
          .to(output),
    });
    const apps: Application[] = [];
    try {
      apps.push(await startApplication(definition, { applicationId, stateDir: tempStateDir() }));
      apps.push(await startApplication(definition, { applicationId, stateDir: tempStateDir() }));
      const tasks = await settledTasks(apps, 12);
      const [first, second] = tasks as [string[], string[]];
      expect(first.filter((id) => second.includes(id)), 'tasks on both instances').to.deep.equal([]);
      for (const owned of tasks) {
        expect(owned.filter((id) => id.startsWith('0_')), `sub-topology 0 of ${owned.join(',')}`).to.have.length(3);
        expect(owned.filter((id) => id.startsWith('1_')), `sub-topology 1 of ${owned.join(',')}`).to.have.length(3);
      }

      const records = Array.from({ length: 600 }, (_, i) => ({ key: `k${i % 50}`, value: `v${i}` }));
      await produceRecords(left, records.slice(0, 300));
      await produceRecords(right, records.slice(300));
      const out = await waitForRecords(output, records.length, 60_000);
      expect(out.map((r) => text(r.value)).sort()).to.deep.equal(records.map((r) => r.value).sort());
    } finally {
      await Promise.all(apps.map((app) => app.close()));
    }
  });

  it('refuses another assignor in the application\'s Kafka properties, naming the property', () => {
    const definition = defineApplication({ applicationId: 'assign-config', keySerde: Serdes.string(), valueSerde: Serdes.string(), topology: (builder) => builder.stream('in').to('out') });
    expect(() => Application.create(definition, { kafka: { 'partition.assignment.strategy': 'cooperative-sticky' } }))
      .to.throw(ConfigError, /partition\.assignment\.strategy.*cooperative-sticky.*range/);
    expect(() => Application.create(definition, { kafka: { 'partition.assignment.strategy': 'range' } })).not.to.throw();
  });
});
