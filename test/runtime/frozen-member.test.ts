// A member frozen past its session timeout (SIGSTOP) while another member takes its partitions
// over, counts on and leaves: when it wakes, it finds its assignment lost, gets the partitions
// back, and the counts go on from the other member's, not from the stores it had (the unit test
// of kept tasks covers a revocation that is not reported lost).
import { expect } from 'chai';
import { text, waitForRecords } from '../helpers/app.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { createUniqueTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const KEYS = 12;

describe('a member frozen while the group moves on (real broker)', function () {
  this.timeout(180_000);
  const instances = childInstances();

  for (const guarantee of ['at_least_once', 'exactly_once'] as const) {
    it(`counts on from the other member's counts when it gets its partitions back (${guarantee})`, async () => {
      const input = await createUniqueTopic('frozen-in', 3);
      const output = await createUniqueTopic('frozen-out', 3);
      const applicationId = uniqueName('frozen');
      const config = failoverConfig({ guarantee });
      const start = (name: string) => {
        const args = ['test/fixtures/topologies/counter.ts', '--application-id', applicationId, '--config', config, '--state-dir', tempStateDir()];
        const instance = new Instance(name, args, { COUNT_INPUT: input, COUNT_OUTPUT: output });
        instances.push(instance);
        return instance;
      };
      const truth = new Map<string, number>();
      const produce = async (round: number) => {
        const records = Array.from({ length: KEYS * 5 }, (_, i) => ({ key: `k${i % KEYS}`, value: `${round}-${i}` }));
        for (const { key } of records) truth.set(key, (truth.get(key) ?? 0) + 1);
        await produceRecords(input, records);
      };
      /** Waits until the last count written for every key is its true count. */
      const settled = async (what: string) => {
        const deadline = Date.now() + 60_000;
        let last = new Map<string, number>();
        while (Date.now() < deadline) {
          last = new Map();
          for (const r of await waitForRecords(output, 0)) last.set(text(r.key)!, Number(text(r.value)));
          if ([...truth].every(([key, n]) => last.get(key) === n)) return;
          await sleep(300);
        }
        expect(Object.fromEntries(last), what).to.deep.equal(Object.fromEntries(truth));
      };
      const running = (l: Record<string, unknown>) => l.msg === 'state changed' && l.to === 'RUNNING';

      const a = start('a');
      await a.waitFor(running);
      await produce(1);
      await settled('counted by a');

      // Frozen past its 6 s session timeout: b joins alone, takes every partition, counts on and leaves.
      a.child.kill('SIGSTOP');
      const b = start('b');
      await b.waitFor(running);
      await produce(2);
      await settled('counted on by b');
      b.child.kill('SIGTERM');
      expect((await b.exited).code).to.equal(0);

      // a wakes, finds the group moved on, and is given every partition again.
      const mark = a.log.length;
      a.child.kill('SIGCONT');
      await a.waitFor((l) => l.msg === 'partitions assigned' && (l.partitions as string[]).length === 3 && a.log.indexOf(l) >= mark, 90_000);
      await produce(3);
      await settled('counted on by a from b\'s counts');
      a.child.kill('SIGTERM');
      expect((await a.exited).code).to.equal(0);
    });
  }
});
