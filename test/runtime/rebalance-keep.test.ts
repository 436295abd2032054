// A rebalance revokes every partition (the range assignor is eager) and assigns them again: the
// tasks an instance keeps go on as they were, stores open and processors as built, and only
// those it gets anew are opened; counts stay right throughout.
import { expect } from 'chai';
import type { ProcessorSupplier } from '../../engine/processors/processor.ts';
import type { Application } from '../../engine/runtime/application.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text } from '../helpers/app.ts';
import { createUniqueTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Passes records on unchanged, counting in `builds` how many times each partition's processor was built. */
function counted(builds: Map<number, number>): ProcessorSupplier<string, string, string, string> {
  return ({ next, context }) => {
    builds.set(context.partition, (builds.get(context.partition) ?? 0) + 1);
    return (key, value) => next(key, value);
  };
}

describe('tasks across a rebalance, and static membership (real broker)', function () {
  this.timeout(120_000);
  const apps: Application[] = [];
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps.length = 0;
  });

  it('keeps running the tasks an instance keeps, without closing and reopening them', async () => {
    const input = await createUniqueTopic('keep-in', 4);
    const output = await createUniqueTopic('keep-out', 4);
    const applicationId = uniqueName('keep');
    const definition = (builds: Map<number, number>) =>
      defineApplication({
        applicationId,
        keySerde: Serdes.string(),
        valueSerde: Serdes.string(),
        topology: (builder) =>
          builder
            .stream<string, string>(input)
            .process(counted(builds), { name: 'counted' })
            .groupByKey()
            .count({ name: 'counts', caching: false })
            .toStream()
            .to(output, { value: Serdes.json() }),
      });
    const truth = new Map<string, number>();
    const produce = async (from: number, n: number) => {
      const records = Array.from({ length: n }, (_, j) => {
        const key = `k${(from + j) % 16}`;
        truth.set(key, (truth.get(key) ?? 0) + 1);
        return { key, value: String(from + j) };
      });
      await produceRecords(input, records);
    };
    const lastCounts = async () => {
      const last = new Map<string, number>();
      for (const r of await readAll(output)) last.set(text(r.key)!, Number(text(r.value)));
      return last;
    };
    const settled = async () => {
      for (let i = 0; i < 120; i++) {
        const last = await lastCounts();
        if ([...truth].every(([key, n]) => last.get(key) === n)) return;
        await sleep(250);
      }
    };
    const settings = { applicationId, kafka: { 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500 } };

    const buildsA = new Map<number, number>();
    const a = await startApplication(definition(buildsA), { ...settings, stateDir: tempStateDir() });
    apps.push(a);
    await produce(0, 200);
    await settled();
    expect([...buildsA.values()]).to.deep.equal([1, 1, 1, 1]);

    const buildsB = new Map<number, number>();
    const b = await startApplication(definition(buildsB), { ...settings, stateDir: tempStateDir() });
    apps.push(b);
    for (let i = 0; i < 120 && !(a.taskIds().length === 4 && b.taskIds().length === 4 && a.state === 'RUNNING' && b.state === 'RUNNING'); i++) await sleep(250);
    const partitionsOf = (app: Application) => app.taskIds().filter((id) => id.startsWith('0_')).map((id) => Number(id.split('_')[1]));
    const kept = partitionsOf(a);
    expect(kept).to.have.length(2);
    // The tasks a kept were built once, when it started: the rebalance did not reopen them.
    expect(kept.map((p) => buildsA.get(p))).to.deep.equal([1, 1]);
    expect(partitionsOf(b).map((p) => buildsB.get(p))).to.deep.equal([1, 1]);

    await produce(200, 200);
    await settled();
    expect(Object.fromEntries(await lastCounts())).to.deep.equal(Object.fromEntries(truth));
  });

  it('takes a named instance restarted within the session timeout back into its partitions, with no rebalance for the others', async () => {
    const input = await createUniqueTopic('static-in', 4);
    const output = await createUniqueTopic('static-out', 4);
    const applicationId = uniqueName('static');
    const definition = defineApplication({
      applicationId,
      keySerde: Serdes.string(),
      valueSerde: Serdes.string(),
      topology: (builder) => builder.stream<string, string>(input).groupByKey().count({ name: 'counts' }).toStream().to(output, { value: Serdes.json() }),
    });
    const settings = { applicationId, kafka: { 'session.timeout.ms': 15_000, 'heartbeat.interval.ms': 500 } };
    const dirs = { a: tempStateDir(), b: tempStateDir() };
    const start = (name: 'a' | 'b') => startApplication(definition, { ...settings, instanceName: `node-${name}`, stateDir: dirs[name] });
    const a = await start('a');
    const b = await start('b');
    apps.push(a, b);
    for (let i = 0; i < 120 && !(a.taskIds().length === 2 && b.taskIds().length === 2 && a.state === 'RUNNING' && b.state === 'RUNNING'); i++) await sleep(250);
    expect(a.instanceId).to.equal(`${applicationId}-node-a`);
    const before = { a: a.taskIds(), b: b.taskIds() };
    const states: string[] = [];
    b.lifecycle.onChange((to) => states.push(to));

    await a.close();
    await produceRecords(input, Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 10}`, value: String(i) })));
    const again = await start('a');
    apps.push(again);
    for (let i = 0; i < 60 && !(again.state === 'RUNNING' && again.taskIds().length === 2); i++) await sleep(250);
    expect(again.taskIds()).to.deep.equal(before.a);
    expect(b.taskIds()).to.deep.equal(before.b);
    expect(states, 'b never rebalanced').to.deep.equal([]);
    const last = new Map<string, number>();
    for (let i = 0; i < 60 && last.size < 10; i++) {
      for (const r of await readAll(output)) last.set(text(r.key)!, Number(text(r.value)));
      if ([...last.values()].every((n) => n === 10) && last.size === 10) break;
      await sleep(500);
    }
    expect([...last.values()]).to.deep.equal(Array(10).fill(10));
  });
});
