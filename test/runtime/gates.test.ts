import { expect } from 'chai';
import type { ConsumedRecord } from '../../engine/kafka/records.ts';
import { headerValue } from '../../engine/processors/processor.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { TopologyError } from '../../engine/errors.ts';
import { compileApplication } from '../../engine/runtime/definition.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { readChangelog, tempStateDir } from '../helpers/state.ts';

type Event = { id: string; version: number; n: number };

function gates(prefix: string) {
  return defineApplication({
    applicationId: 'gates',
    keySerde: Serdes.string(),
    valueSerde: Serdes.json(),
    topology: (builder) => {
      const events = builder.stream<string, Event>(`${prefix}-in`, { name: 'in' });
      events
        .dedupe({ name: 'dedupe', store: 'seen-ids', id: (_, e) => e.id, ttlMs: 60_000, onDuplicate: (dups) => dups.mapValues((e) => ({ id: e.id, status: 'DUPLICATE' })).to(`${prefix}-duplicates`) })
        .to(`${prefix}-unique`);
      events
        .versionGate({ name: 'gate', store: 'versions', version: (_, e) => e.version, onStale: (stale) => stale.to(`${prefix}-stale`) })
        .to(`${prefix}-applied`);
    },
  });
}

const at = (minute: number) => Date.UTC(2026, 10, 23, 12, minute);

describe('dedupe and versionGate (real broker)', function () {
  this.timeout(120_000);

  it('drops repeated ids within the TTL (routing them), lets one through after it, and remembers across a restart', async () => {
    const prefix = uniqueName('gates');
    for (const t of ['in', 'unique', 'duplicates', 'applied', 'stale']) await createTopic(`${prefix}-${t}`, t === 'in' ? 3 : 1);
    const stateDir = tempStateDir();
    const applicationId = `${prefix}-app`;
    // Per key: versions 1, 2, 2 (redelivered), 1 (late), 3; ids repeat within the minute, and once after the TTL.
    const records = [
      { key: 'a', value: { id: 'e1', version: 1, n: 1 }, timestamp: at(0) },
      { key: 'a', value: { id: 'e2', version: 2, n: 2 }, timestamp: at(0) },
      { key: 'a', value: { id: 'e2', version: 2, n: 3 }, timestamp: at(0) },
      { key: 'a', value: { id: 'e1', version: 1, n: 4 }, timestamp: at(0) },
      { key: 'a', value: { id: 'e3', version: 3, n: 5 }, timestamp: at(0) },
      { key: 'b', value: { id: 'e4', version: 7, n: 6 }, timestamp: at(0) },
      { key: 'b', value: { id: 'e4', version: 7, n: 7 }, timestamp: at(0) },
      // Two minutes later in stream time: e1's memory has expired, so it passes again.
      { key: 'a', value: { id: 'e1', version: 4, n: 8 }, timestamp: at(2) },
    ];
    const produce = (list: typeof records) =>
      produceRecords(`${prefix}-in`, list.map((r) => ({ key: r.key, value: JSON.stringify(r.value), timestamp: r.timestamp, headers: [{ correlation_id: `corr-${r.value.n}` }] })));
    let app = await startApplication(gates(prefix), { applicationId, stateDir, commitIntervalMs: 100 });
    try {
      await produce(records);
      const unique = await waitForRecords(`${prefix}-unique`, 5);
      expect(unique.map((r) => JSON.parse(text(r.value)!).n).sort((a, b) => a - b)).to.deep.equal([1, 2, 5, 6, 8]);
      const duplicates = await waitForRecords(`${prefix}-duplicates`, 3);
      expect(duplicates.map((r) => JSON.parse(text(r.value)!)).sort((x, y) => x.id.localeCompare(y.id))).to.deep.equal([
        { id: 'e1', status: 'DUPLICATE' },
        { id: 'e2', status: 'DUPLICATE' },
        { id: 'e4', status: 'DUPLICATE' },
      ]);
      const applied = await waitForRecords(`${prefix}-applied`, 5);
      expect(applied.map((r) => `${text(r.key)}${JSON.parse(text(r.value)!).version}`).sort()).to.deep.equal(['a1', 'a2', 'a3', 'a4', 'b7']);
      const stale = await waitForRecords(`${prefix}-stale`, 3);
      expect(stale.map((r) => JSON.parse(text(r.value)!).n).sort((a, b) => a - b)).to.deep.equal([3, 4, 7]);
      // Rejects say why, and what the gate had seen; records that passed carry no such header.
      const why = (r: ConsumedRecord) => ['reason', 'id', 'version', 'last-version'].map((h) => headerValue(r.headers, `sluice.rejected.${h}`) ?? '-').join(' ');
      expect(duplicates.map(why).sort()).to.deep.equal(['duplicate e1 - -', 'duplicate e2 - -', 'duplicate e4 - -']);
      expect(stale.map((r) => `n${JSON.parse(text(r.value)!).n} ${why(r)}`).sort()).to.deep.equal(['n3 stale - 2 2', 'n4 stale - 1 2', 'n7 stale - 7 7']);
      expect([...unique, ...applied].map(why)).to.deep.equal(Array(10).fill('- - - -'));
      // The input's own headers travel with the rejects.
      expect(stale.map((r) => headerValue(r.headers, 'correlation_id')).sort()).to.deep.equal(['corr-3', 'corr-4', 'corr-7']);
    } finally {
      await app.close();
    }
    // After a restart the stores remember: e1 redelivered (version 4, seen last at minute 2) is a duplicate and stale.
    app = await startApplication(gates(prefix), { applicationId, stateDir, commitIntervalMs: 100 });
    try {
      await produce([{ key: 'a', value: { id: 'e1', version: 4, n: 9 }, timestamp: at(2) }]);
      expect(await waitForRecords(`${prefix}-duplicates`, 4)).to.have.length(4);
      expect(await waitForRecords(`${prefix}-stale`, 4)).to.have.length(4);
      expect(await waitForRecords(`${prefix}-unique`, 6, 2_000)).to.have.length(5);
    } finally {
      await app.close();
    }
    const versions = await readChangelog(`${applicationId}-versions-changelog`);
    expect(Object.fromEntries(versions)).to.deep.equal({ a: '4', b: '7' });
  });

  it('refuses a gate after a key change without a repartition, naming the operator', () => {
    const definition = defineApplication({
      applicationId: 'gates-rekeyed',
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (builder) =>
        builder
          .stream<string, Event>('in')
          .selectKey((_, e) => e.id)
          .versionGate({ name: 'late-gate', store: 'v', version: (_, e) => e.version })
          .to('out'),
    });
    expect(() => compileApplication(definition)).to.throw(TopologyError, /late-gate.*repartition/);
  });
});
