// The short chaos run: three instances of the eos-chaos topology, one of them kill -9ed (or,
// in the last run, frozen past its session timeout and resumed) every few seconds while records
// flow and an async stage calls an HTTP service that fails 5% of calls and stalls 1%, then every
// output checked against the input (see scripts/chaos/run.ts, which `npm run
// chaos`, the long run, uses too). Set SLUICE_TEST_LOGS to a directory to get the instances'
// logs of a failed run.
import { expect } from 'chai';
import { describeViolations, runChaos, type ChaosOptions, type ChaosSummary } from '../../scripts/chaos/run.ts';

const RECORDS = 50_000;
const KILLS = 5;

// Kills come every 5.6–10.4 s: long enough for a restarted instance to take tasks over (after
// the 6 s session timeout), restore and commit before it may be killed again, while the
// transaction its predecessor left open may still be pending (the broker aborts it 10 s after
// it began, plus up to its clean-up interval). Records flow for about 50 s at ~1,000/s.
const workload: Omit<ChaosOptions, 'guarantee'> = {
  records: RECORDS,
  kills: KILLS,
  instances: 3,
  keys: 100,
  killIntervalMs: 8_000,
  logDir: process.env.SLUICE_TEST_LOGS,
};

/** The async stage's service failed and stalled calls as told, so retries and time-outs happened. */
function expectFlakyCalls(summary: ChaosSummary): void {
  const { calls, failed, stalled } = summary.serviceCalls;
  expect(calls).to.be.at.least(summary.records);
  expect(failed / calls).to.be.within(0.03, 0.07);
  expect(stalled / calls).to.be.within(0.004, 0.02);
}

function broken(summary: ChaosSummary): Array<[string, number]> {
  return Object.entries(summary.violations).filter(([, n]) => n > 0);
}

function figures(summary: ChaosSummary): string {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const p = summary.phasesMs;
  return (
    `      ${summary.guarantee}: ${summary.records} records, ${summary.kills} kills, ${summary.processes} processes, ${seconds(summary.durationMs)} ` +
    `(produce ${seconds(p.produce)}, catch up ${seconds(p.catchUp)}, verify ${seconds(p.verify)}); ` +
    `outputs ${JSON.stringify(summary.outputs)}; service calls ${JSON.stringify(summary.serviceCalls)}; ${broken(summary).length === 0 ? 'no violations' : `violations ${JSON.stringify(Object.fromEntries(broken(summary)))}`}\n`
  );
}

describe('chaos: instances killed with -9 while records flow (real broker)', function () {
  this.timeout(600_000);

  // The async stage reads a repartition topic of its own: a replayable input, whose exactly-once
  // commits wait for no call (the runs further down keep it on the shared input, whose commits do).
  it(`exactly_once: ~50,000 records, ${KILLS} kills, no violations`, async () => {
    const summary = await runChaos({ ...workload, guarantee: 'exactly_once', asyncInput: 'repartitioned' });
    process.stdout.write(figures(summary));
    expect(summary.kills).to.be.at.least(KILLS);
    expect(summary.records).to.equal(RECORDS);
    expect(broken(summary), describeViolations(summary)).to.deep.equal([]);
    // One output per input in each output, read committed: nothing duplicated, nothing lost.
    expect(summary.outputs).to.deep.equal({ echo: RECORDS, sum: RECORDS, max: RECORDS, count: RECORDS, async: RECORDS });
    expectFlakyCalls(summary);
  });

  it('at_least_once: same workload loses nothing', async () => {
    const summary = await runChaos({ ...workload, guarantee: 'at_least_once' });
    process.stdout.write(figures(summary));
    expect(summary.kills).to.be.at.least(KILLS);
    expect(summary.records).to.equal(RECORDS);
    expect(broken(summary), describeViolations(summary)).to.deep.equal([]);
    for (const [output, n] of Object.entries(summary.outputs)) expect(n, output).to.be.at.least(RECORDS);
    expectFlakyCalls(summary);
  });
});

describe('chaos: instances frozen (SIGSTOP) past their session timeout while records flow (real broker)', function () {
  this.timeout(600_000);

  // Stalls instead of kills: the victim is frozen (SIGSTOP) for 9 s, past its 6 s session
  // timeout but within its 10 s transaction timeout, then resumed. The group has given its
  // partitions to the others meanwhile; the resumed instance is a zombie that may still hold an
  // open transaction, stale positions and stores. Its late commits must be fenced and the new
  // owners must not process anything it committed, nor miss anything it did not.
  it('exactly_once: ~25,000 records, 3 stalls of 9 s, no violations', async () => {
    const stalls = 3;
    const records = 25_000;
    const summary = await runChaos({ ...workload, guarantee: 'exactly_once', records, kills: stalls, stallMs: 9_000, ratePerSec: 500, asyncInput: 'repartitioned' });
    process.stdout.write(figures(summary));
    expect(summary.kills).to.be.at.least(stalls);
    expect(broken(summary), describeViolations(summary)).to.deep.equal([]);
    expect(summary.outputs).to.deep.equal({ echo: records, sum: records, max: records, count: records, async: records });
  });
});

describe('chaos: kills during rebalances, standby catch-ups and warm-ups, queried throughout (real broker)', function () {
  this.timeout(600_000);

  // Named instances with a standby each; a killed one stays down 7 s, past the session timeout,
  // so the group rebalances without it (the standbys take its tasks), and its restart warms up
  // before it joins again (another rebalance, new standbys catching up). Each kill but the steady
  // ones waits for its moment: an instance warming up (killed), a rebalance starting, a standby
  // starting to catch up (its instance killed). Meanwhile lookups, half of them stale=true, go to
  // every instance.
  const moments: ChaosOptions = {
    records: 30_000,
    kills: 6,
    instances: 3,
    keys: 100,
    ratePerSec: 400,
    restartPauseMs: 7_000,
    moments: ['steady', 'warm-up', 'rebalance', 'catch-up'],
    standbys: 1,
    named: true,
    queries: true,
    guarantee: 'exactly_once',
    logDir: process.env.SLUICE_TEST_LOGS,
  };

  // A rolling restart: named instances with a standby each stopped cleanly (SIGTERM) in turn and
  // started again within the session timeout. Each stop hands the instance's tasks over, and the
  // standbys answer its keys as fresh reads until it runs them again: every such answer is
  // checked against the committed changelog like any other.
  it('exactly_once, clean restarts: no violation, and no fresh answer a standby gave for a stopped instance shows what was never committed', async () => {
    const summary = await runChaos({ ...moments, records: 12_000, kills: 3, restartPauseMs: 2_000, moments: ['steady'], clean: true });
    process.stdout.write(figures(summary) + `      queries ${JSON.stringify(summary.queries)}\n`);
    expect(summary.kills).to.equal(3);
    expect(broken(summary), describeViolations(summary)).to.deep.equal([]);
    expect(summary.outputs).to.deep.equal({ echo: 12_000, sum: 12_000, max: 12_000, count: 12_000, async: 12_000 });
    expect(summary.queries.fresh).to.be.at.least(300);
  });

  for (const guarantee of ['exactly_once', 'at_least_once'] as const) {
    it(`${guarantee}: no violation, and no lookup shows what the committed changelog never held`, async () => {
      const summary = await runChaos({ ...moments, guarantee });
      process.stdout.write(figures(summary) + `      moments ${JSON.stringify(summary.moments)}; queries ${JSON.stringify(summary.queries)}\n`);
      expect(summary.kills).to.be.at.least(6);
      expect(broken(summary), describeViolations(summary)).to.deep.equal([]);
      if (guarantee === 'exactly_once') expect(summary.outputs).to.deep.equal({ echo: 30_000, sum: 30_000, max: 30_000, count: 30_000, async: 30_000 });
      else for (const [output, n] of Object.entries(summary.outputs)) expect(n, output).to.be.at.least(30_000);
      // The kills came at their moments, and the lookups were answered, some from standbys.
      for (const moment of ['warm-up', 'rebalance', 'catch-up'] as const) expect(summary.moments[moment]?.hit, moment).to.be.at.least(1);
      expect(summary.queries.fresh).to.be.at.least(500);
    });
  }
});
