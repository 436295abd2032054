import { expect } from 'chai';
import { mutationDependencies, mutationId, type Mutation } from '../../engine/extensions/mutations/index.ts';
import { MISSING_DEPENDENCIES_HEADER, type Batch } from '../../engine/processors/batch.ts';
import type { ConsumedRecord } from '../../engine/kafka/records.ts';
import { defineApplication, type ApplicationDefinition } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { createTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir, waitForChangelogEntries } from '../helpers/state.ts';

function m(id: string, dependencies: string[] = []): Mutation {
  return { id, edge_node_id: 'edge-1', entity_type: 'customer', entity_id: id, operation_type: 'UPDATE', attributes: { n: id }, base_version: 1, timestamp: new Date().toISOString(), priority: 5, dependencies };
}

const keyed = (mutations: Mutation[]) => mutations.map((v) => ({ key: `customer:${v.entity_id}`, value: JSON.stringify(v) }));
const batchesOf = <V = Mutation>(records: ConsumedRecord[]) => records.map((r) => ({ key: text(r.key), batch: JSON.parse(text(r.value)!) as Batch<string, V> }));
const idsOf = (batch: Batch<string, Mutation>) => batch.records.map((r) => r.value.id);

/** Mutations batched in dependency order; those whose dependencies never come become FAILED statuses. */
function batching(input: string, output: string, statuses: string, options: { maxSize: number; lingerMs: number; dependencyTimeoutMs: number }): ApplicationDefinition {
  return defineApplication({
    applicationId: 'batch-deps',
    keySerde: Serdes.string(),
    valueSerde: Serdes.json(),
    topology: (builder) =>
      builder
        .stream<string, Mutation>(input)
        .batch({
          name: 'group',
          store: 'pending',
          ...options,
          id: mutationId,
          dependsOn: mutationDependencies,
          releasedTtlMs: 3_600_000,
          onMissingDependency: (missing) => missing.mapValues((mutation) => ({ mutation_id: mutation.id, status: 'FAILED', reason: 'dependencies missing' })).to(statuses),
        })
        .to(output),
  });
}

describe('batch (real broker)', function () {
  this.timeout(120_000);

  it('closes batches at maxSize and maxBytes, and by linger when the stream goes quiet', async () => {
    const prefix = uniqueName('batch');
    const t = (name: string) => `${prefix}-${name}`;
    for (const name of ['counted', 'sized', 'by-count', 'by-size']) await createTopic(t(name), 1);
    const app = await startApplication(
      defineApplication({
        applicationId: 'batch-size',
        keySerde: Serdes.string(),
        valueSerde: Serdes.string(),
        topology: (builder) => {
          builder.stream<string, string>(t('counted')).batch({ name: 'by-count', store: 'counted-pending', maxSize: 3, lingerMs: 1_000 }).to(t('by-count'));
          builder.stream<string, string>(t('sized')).batch({ name: 'by-size', store: 'sized-pending', maxSize: 100, maxBytes: 25, lingerMs: 1_000 }).to(t('by-size'));
        },
      }),
      { commitIntervalMs: 100 },
    );
    try {
      const started = Date.now();
      await produceRecords(t('counted'), ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((v) => ({ key: `k-${v}`, value: v, timestamp: started + v.charCodeAt(0) })));
      const counted = batchesOf<string>(await waitForRecords(t('by-count'), 3));
      expect(counted.map(({ batch }) => batch.records.map((r) => r.value))).to.deep.equal([['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
      // Without maxBytes, sizes are not measured.
      expect(counted.map(({ batch }) => [batch.count, batch.bytes, batch.reason])).to.deep.equal([[3, 0, 'size'], [3, 0, 'size'], [1, 0, 'linger']]);
      expect(counted.map(({ key }) => key), 'a batch is keyed by its first record').to.deep.equal(['k-a', 'k-d', 'k-g']);
      expect(counted[0]!.batch.records[1]).to.deep.equal({ key: 'k-b', value: 'b', timestamp: started + 98 });
      const raw = await readAll(t('by-count'));
      expect(raw[0]!.timestamp, 'a batch carries its latest record time').to.equal(started + 99);

      // 10-byte values against 25 bytes: two fit; a 40-byte value closes the open batch and goes alone.
      const ten = (c: string) => c.repeat(10);
      await produceRecords(t('sized'), [ten('a'), ten('b'), ten('c'), 'x'.repeat(40), ten('d')].map((v) => ({ key: v.slice(0, 1), value: v })));
      const sized = batchesOf<string>(await waitForRecords(t('by-size'), 4));
      expect(sized.map(({ batch }) => [batch.records.map((r) => r.value[0]).join(''), batch.bytes, batch.reason])).to.deep.equal([
        ['ab', 20, 'bytes'],
        ['c', 10, 'bytes'],
        ['x', 40, 'bytes'],
        ['d', 10, 'linger'],
      ]);
    } finally {
      await app.close();
    }
  });

  it('with closeOnCommit, closes the open batch at each commit, so its records never reach the changelog', async () => {
    const prefix = uniqueName('batch-commit');
    const [input, output, statuses] = [`${prefix}-in`, `${prefix}-out`, `${prefix}-statuses`];
    for (const topic of [input, output, statuses]) await createTopic(topic, 1);
    const applicationId = uniqueName('batch-commit');
    const app = await startApplication(
      defineApplication({
        applicationId: 'batch-commit',
        guarantee: 'exactly_once',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        topology: (builder) =>
          builder
            .stream<string, Mutation>(input)
            .batch({ name: 'group', store: 'pending', maxSize: 100, lingerMs: 600_000, closeOnCommit: true, id: mutationId, dependsOn: mutationDependencies, releasedTtlMs: 3_600_000, dependencyTimeoutMs: 600_000 })
            .to(output),
      }),
      { applicationId, stateDir: tempStateDir(), commitIntervalMs: 100 },
    );
    try {
      // w waits for a mutation that has not come: it stays pending (and logged) across commits.
      await produceRecords(input, keyed([m('a'), m('b', ['a']), m('w', ['later'])]));
      const first = batchesOf(await waitForRecords(output, 1));
      expect(first.map(({ batch }) => [idsOf(batch), batch.reason])).to.deep.equal([[['a', 'b'], 'commit']]);
      await waitForChangelogEntries(`${applicationId}-pending-changelog`, 1);
      await produceRecords(input, keyed([m('later')]));
      const all = batchesOf(await waitForRecords(output, 2));
      expect(all.map(({ batch }) => [idsOf(batch), batch.reason])).to.deep.equal([
        [['a', 'b'], 'commit'],
        [['later', 'w'], 'commit'],
      ]);
      // Only w was ever held across a commit: its record and its deletion.
      const logged = (await readAll(`${applicationId}-pending-changelog`)).map((r) => (r.value === null ? null : JSON.parse(text(r.value)!).value.id));
      expect(logged).to.deep.equal(['w', null]);
    } finally {
      await app.close();
    }
  });

  it('puts every mutation after the ones it depends on, and fails those whose dependencies never come', async () => {
    const prefix = uniqueName('batch-deps');
    const [input, output, statuses] = [`${prefix}-in`, `${prefix}-out`, `${prefix}-statuses`];
    for (const topic of [input, output, statuses]) await createTopic(topic, 1);
    // m2 and m3 come before what they depend on; x1 depends on a mutation that never comes, x2 on x1.
    await produceRecords(input, keyed([m('m2', ['m1']), m('m3', ['m2', 'm1']), m('m1'), m('x1', ['ghost']), m('x2', ['x1']), m('u')]));
    const app = await startApplication(batching(input, output, statuses, { maxSize: 10, lingerMs: 500, dependencyTimeoutMs: 2_000 }), { commitIntervalMs: 100 });
    try {
      const first = batchesOf(await waitForRecords(output, 1));
      expect(first.map(({ batch }) => idsOf(batch))).to.deep.equal([['m1', 'm2', 'm3', 'u']]);
      expect(first[0]!.key).to.equal('customer:m1');

      // A dependent that arrives after its dependency went out passes at once.
      await produceRecords(input, keyed([m('y', ['m1'])]));
      const failed = await waitForRecords(statuses, 2);
      expect(failed.map((r) => JSON.parse(text(r.value)!))).to.deep.equal([
        { mutation_id: 'x1', status: 'FAILED', reason: 'dependencies missing' },
        { mutation_id: 'x2', status: 'FAILED', reason: 'dependencies missing' },
      ]);
      expect(failed.map((r) => text(r.headers?.find((h) => h[MISSING_DEPENDENCIES_HEADER])?.[MISSING_DEPENDENCIES_HEADER] as Buffer))).to.deep.equal(['ghost', 'x1']);
      const all = batchesOf(await waitForRecords(output, 2));
      expect(all.map(({ batch }) => idsOf(batch))).to.deep.equal([['m1', 'm2', 'm3', 'u'], ['y']]);
    } finally {
      await app.close();
    }
  });

  it('keeps pending records, waiting ones included, and released ids across a restart on a fresh state directory', async () => {
    const prefix = uniqueName('batch-restart');
    const [input, output, statuses] = [`${prefix}-in`, `${prefix}-out`, `${prefix}-statuses`];
    for (const topic of [input, output, statuses]) await createTopic(topic, 1);
    const applicationId = uniqueName('batch-restart');
    let app = await startApplication(batching(input, output, statuses, { maxSize: 3, lingerMs: 600_000, dependencyTimeoutMs: 600_000 }), { applicationId, stateDir: tempStateDir(), commitIntervalMs: 100 });
    try {
      // p1..p3 fill a batch; a and b stay in the open one; c waits for z.
      await produceRecords(input, keyed([m('p1'), m('p2'), m('p3'), m('a'), m('b', ['a']), m('c', ['z'])]));
      await waitForRecords(output, 1);
      await waitForChangelogEntries(`${applicationId}-pending-changelog`, 3);
    } finally {
      await app.close();
    }
    expect(batchesOf(await readAll(output)).map(({ batch }) => idsOf(batch))).to.deep.equal([['p1', 'p2', 'p3']]);

    app = await startApplication(batching(input, output, statuses, { maxSize: 3, lingerMs: 300, dependencyTimeoutMs: 600_000 }), { applicationId, stateDir: tempStateDir(), commitIntervalMs: 100 });
    try {
      // The open batch comes back and goes out by linger, with no new record to wake the task.
      expect(batchesOf(await waitForRecords(output, 2)).map(({ batch }) => idsOf(batch))).to.deep.equal([['p1', 'p2', 'p3'], ['a', 'b']]);
      // z releases the waiting c; q needs p1, released before the restart.
      await produceRecords(input, keyed([m('z'), m('q', ['p1'])]));
      await waitForRecords(output, 3);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const all = batchesOf(await readAll(output));
      expect(all.map(({ batch }) => [idsOf(batch), batch.reason])).to.deep.equal([
        [['p1', 'p2', 'p3'], 'size'],
        [['a', 'b'], 'linger'],
        [['z', 'c', 'q'], 'size'],
      ]);
      expect(await readAll(statuses)).to.have.length(0);
    } finally {
      await app.close();
    }
  });
});
