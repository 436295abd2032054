// Every window kind under exactly-once, with an instance killed with -9 mid-stream: the committed
// output holds, for every key and window, exactly the updates (or the final result) a run
// without the crash writes for the same input. Late and out-of-order records included. The run
// without the crash is itself Kafka Streams' output for such input (test/compat/windows.test.ts).
import { expect } from 'chai';
import { defineApplication, Serdes, type Windowed } from 'sluice';
import { windowedCounts, type WindowKind } from '../fixtures/topologies/windowed.ts';
import { startApplication } from '../helpers/app.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { RECENT_HOUR, createUniqueTopic, produceRecords, readAll, uniqueName, type TestRecord } from '../helpers/kafka.ts';
import { untilCommitted } from '../helpers/kafka-streams.ts';
import { tempStateDir } from '../helpers/state.ts';
import { seededRandom } from '../../topologies/lib/seeded-random.ts';

const T0 = RECENT_HOUR;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 24 keys, 12,000 records over about two minutes of event time, out of order by up to 12 s (grace is 2 s: some are late in every kind). */
function input(): TestRecord[] {
  const random = seededRandom(21);
  const records: TestRecord[] = [];
  for (let i = 0; i < 12_000; i++) {
    const jitter = Math.floor(random() * 12_000);
    records.push({ key: `k${Math.floor(random() * 24)}`, value: String(i), timestamp: T0 + i * 10 + 12_000 - jitter });
  }
  // A record per key far ahead closes every window before it.
  for (let k = 0; k < 24; k++) records.push({ key: `k${k}`, value: 'end', timestamp: T0 + 600_000 });
  return records;
}

/** Each windowed key's values in the order written, from a read of the whole output topic. */
async function perWindow(topic: string, kind: WindowKind): Promise<Map<string, string[]>> {
  const serde = kind === 'session' ? Serdes.sessionWindowed(Serdes.string()) : Serdes.timeWindowed(Serdes.string(), kind === 'sliding' ? 5_000 : 10_000);
  const out = new Map<string, string[]>();
  for (const r of await readAll(topic, 'read_committed')) {
    const key = serde.deserialize(r.key, topic) as Windowed<string>;
    const id = `${key.key}@${key.window.start - T0}-${key.window.end - T0}`;
    out.set(id, [...(out.get(id) ?? []), r.value === null ? 'null' : r.value.toString('utf8')]);
  }
  return out;
}

const total = (m: Map<string, string[]>) => [...m.values()].reduce((n, v) => n + v.length, 0);

describe('windows under exactly-once across kill -9', function () {
  this.timeout(300_000);
  const instances = childInstances();
  const records = input();

  const cases: Array<[WindowKind, 'update' | 'final']> = [
    ['tumbling', 'update'],
    ['hopping', 'update'],
    ['sliding', 'update'],
    ['session', 'update'],
    ['sliding', 'final'],
    ['session', 'final'],
  ];
  for (const [kind, emit] of cases) {
    it(`${kind} windows, ${emit === 'update' ? 'every update' : 'final results'}: the same per window as without the crash`, async () => {
      const topic = await createUniqueTopic(`wc-${kind}-in`, 3);
      await produceRecords(topic, records);

      // Without a crash, in this process.
      const reference = { input: topic, output: await createUniqueTopic(`wc-${kind}-ref`, 3), late: await createUniqueTopic(`wc-${kind}-ref-late`, 3) };
      const referenceId = uniqueName(`wc-${kind}-ref`);
      const definition = defineApplication({ applicationId: referenceId, keySerde: Serdes.string(), valueSerde: Serdes.string(), topology: (b) => windowedCounts(b, reference, kind, emit) });
      const app = await startApplication(definition, { applicationId: referenceId, stateDir: tempStateDir(), commitIntervalMs: 200 });
      await untilCommitted(referenceId, [topic], () => undefined);
      await app.close();
      const expected = await perWindow(reference.output, kind);
      const late = (await readAll(reference.late)).length;
      expect(late, 'some records are late').to.be.greaterThan(0);

      // Two instances, exactly-once; one killed with -9 once output flows.
      const crashed = { output: await createUniqueTopic(`wc-${kind}-out`, 3), late: await createUniqueTopic(`wc-${kind}-late`, 3) };
      const applicationId = uniqueName(`wc-${kind}`);
      const config = failoverConfig();
      const start = (name: string) => {
        const env = { WINDOW_INPUT: topic, WINDOW_OUTPUT: crashed.output, WINDOW_LATE: crashed.late, WINDOW_KIND: kind, WINDOW_EMIT: emit };
        const instance = new Instance(name, ['test/fixtures/topologies/windowed.ts', '--application-id', applicationId, '--config', config, '--state-dir', tempStateDir(), '--guarantee', 'exactly_once'], env);
        instances.push(instance);
        return instance;
      };
      const a = start('a');
      const b = start('b');
      const deadline = Date.now() + 60_000;
      while ((await readAll(crashed.output, 'read_committed')).length < total(expected) / 4 && Date.now() < deadline) await sleep(100);
      const victim = [a, b].find((i) => i.log.some((l) => l.msg === 'partitions assigned' && (l.partitions as string[]).length > 0)) ?? a;
      victim.child.kill('SIGKILL');
      await victim.exited;
      await untilCommitted(applicationId, [topic], () => undefined, 120_000);
      const got = await perWindow(crashed.output, kind);
      if (process.env.DEBUG_WINDOWS) {
        const ids = [...new Set([...got.keys(), ...expected.keys()])].filter((id) => JSON.stringify(got.get(id)) !== JSON.stringify(expected.get(id))).sort();
        console.log(ids.length, 'differ of', expected.size, ids.slice(0, 8).map((id) => `${id}: expected ${JSON.stringify(expected.get(id))} got ${JSON.stringify(got.get(id))}`).join('\n'));
      }
      expect(Object.fromEntries([...got].sort()), 'each window\'s updates, once each').to.deep.equal(Object.fromEntries([...expected].sort()));
      expect((await readAll(crashed.late, 'read_committed')).length, 'the same records late').to.equal(late);
    });
  }
});
