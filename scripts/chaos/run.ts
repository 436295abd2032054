/**
 * The kill -9 chaos run, modelled on Kafka Streams' EOS system test: the workload writes keyed
 * integers to an input topic at a steady pace while 2–3 instances of eos-chaos.ts process them
 * and the supervisor kill -9s one every few seconds and restarts it on the same state directory;
 * afterwards the checker reads every output, read committed, and checks it against the input.
 * Both guarantees: no instance exits by itself, each exits 0 on SIGTERM, the group catches up
 * in time, and (with queries on) no lookup shows a value the committed changelog never held. `test/chaos/eos.test.ts` runs a short one, `npm run chaos` (scripts/chaos.ts) a long
 * one; a run manages its child processes itself (no test hooks).
 */
import { Checker } from './checker.ts';
import { chaosApplicationId, chaosTopics, resolveOptions, type ChaosOptions, type ChaosSummary, type ChaosTopics, type RunOptions } from './options.ts';
import { Supervisor } from './supervisor.ts';
import { invariants, ViolationLog } from './violations.ts';
import { Workload } from './workload.ts';
import { startFlakyService, type FlakyService } from './flaky-service.ts';
import { Querier } from './queries.ts';
import { TailReader } from './tail-reader.ts';

export type { ChaosOptions, ChaosSummary, Guarantee, KillMoment } from './options.ts';
export { describeViolations } from './violations.ts';

/**
 * One chaos run. `runChaos()` creates it, runs it and always kills what it started; use the
 * class directly only to reach `killAll()` from a signal handler.
 */
export class ChaosRun {
  readonly options: RunOptions;
  readonly applicationId: string;
  readonly topics: ChaosTopics;
  private readonly violations: ViolationLog;
  private readonly workload: Workload;
  private readonly supervisor: Supervisor;
  private readonly checker: Checker;
  private readonly querier: Querier;
  private readonly t0 = Date.now();
  /** The HTTP service the async stage calls: 5% of calls fail, 1% stall. */
  private service: FlakyService | undefined;
  private readonly onExit = () => this.killAll();

  constructor(options: ChaosOptions) {
    this.options = resolveOptions(options);
    this.applicationId = chaosApplicationId(this.options.guarantee);
    this.topics = chaosTopics(this.applicationId, this.options.asyncInput);
    this.violations = new ViolationLog(invariants(this.options.guarantee));
    const say = (line: string) => this.say(line);
    this.workload = new Workload(this.options, this.applicationId, this.topics, say);
    this.supervisor = new Supervisor({
      options: this.options,
      applicationId: this.applicationId,
      topics: this.topics,
      violations: this.violations,
      say,
      produced: () => this.workload.produced,
      service: () => this.service!.url,
    });
    this.checker = new Checker(this.options, this.applicationId, this.topics, this.violations, say);
    this.querier = new Querier(this.options, () => this.supervisor.endpoints());
  }

  async run(): Promise<ChaosSummary> {
    process.on('exit', this.onExit);
    try {
      return await this.execute();
    } catch (err) {
      this.supervisor.writeLogs();
      throw err;
    } finally {
      await this.querier.stop();
      this.killAll();
      process.off('exit', this.onExit);
      await this.service?.close();
    }
  }

  /** SIGKILLs every instance process still running. */
  killAll(): void {
    this.supervisor.killAll();
  }

  private say(line: string): void {
    this.options.progress?.(`[chaos ${((Date.now() - this.t0) / 1000).toFixed(1)}s] ${line}`);
  }

  private async execute(): Promise<ChaosSummary> {
    const o = this.options;
    this.say(
      `${o.guarantee}: ${o.records} records over ${o.keys} keys at ${Math.round(o.ratePerSec)}/s, ${o.instances} instances, ` +
        `${o.kills} ${o.stallMs > 0 ? `stalls of ${o.stallMs} ms` : o.clean ? 'clean stops (SIGTERM)' : 'kills'} (${o.moments.join(', ')}) every ~${o.killIntervalMs} ms, ` +
        `${o.standbys} standbys, ${o.named ? 'named' : 'unnamed'} instances${o.queries ? ', queried' : ''}, application ${this.applicationId}, seed ${o.seed}`,
    );
    await this.workload.createTopics();
    this.service = await startFlakyService({ failRate: 0.05, stallRate: 0.01, seed: o.seed });
    const phase = timer();

    await this.supervisor.startAll();
    const startMs = phase();
    this.say(`${o.instances} instances running after ${startMs} ms`);
    if (o.queries) this.querier.start();

    const producing = this.workload.produce();
    const killing = this.supervisor.killAndRestart();
    await producing;
    const produceMs = phase();
    this.say(`produced ${this.workload.produced} records in ${produceMs} ms`);
    await killing;

    phase();
    await this.workload.waitForCatchUp(this.violations);
    const catchUpMs = phase();
    await this.querier.stop();
    await this.supervisor.stopAll();
    const stopMs = phase();
    const { outputs, extraOutputs } = await this.checker.verify(this.workload.produced, this.supervisor.lastKillAt);
    if (o.queries) await this.verifyQueries();
    const verifyMs = phase();

    const summary: ChaosSummary = {
      guarantee: o.guarantee,
      applicationId: this.applicationId,
      seed: o.seed,
      records: this.workload.produced,
      keys: o.keys,
      partitions: o.partitions,
      instances: o.instances,
      kills: this.supervisor.kills,
      moments: this.supervisor.moments,
      queries: this.querier.counts,
      processes: this.supervisor.started.length,
      durationMs: Date.now() - this.t0,
      phasesMs: { start: startMs, produce: produceMs, catchUp: catchUpMs, stop: stopMs, verify: verifyMs },
      outputs,
      extraOutputs,
      serviceCalls: { ...this.service.counts },
      violations: this.violations.counts,
      examples: this.violations.examples,
      ok: this.violations.total === 0,
    };
    if (!summary.ok) {
      this.supervisor.writeLogs();
    } else if (o.cleanup) {
      await this.workload.deleteTopics();
      this.supervisor.removeFiles();
    }
    return summary;
  }

  /** Checks the answers the querier kept against the committed changelog of their store. */
  private async verifyQueries(): Promise<void> {
    const tails = await TailReader.connect(this.options.bootstrapServers, (line) => this.say(line));
    try {
      await this.querier.verify(tails, this.topics.taggedChangelog, this.violations);
    } finally {
      await tails.close();
    }
    const { fresh, stale, statuses } = this.querier.counts;
    this.say(`checked ${fresh} answers and ${stale} stale ones; lookups by status ${JSON.stringify(statuses)}`);
  }
}

/** Milliseconds since it was made, or since it was last called. */
function timer(): () => number {
  let last = Date.now();
  return () => {
    const now = Date.now();
    const elapsed = now - last;
    last = now;
    return elapsed;
  };
}

/** Runs one chaos run and returns its summary; every process it started is gone when it returns. */
export function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  return new ChaosRun(options).run();
}
