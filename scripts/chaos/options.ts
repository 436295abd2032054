/**
 * What a chaos run takes and what it reports. The run's parts (supervisor.ts: the instances and
 * their kills; workload.ts: the input and the wait for the group; checker.ts: the outputs against
 * the input) share these.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';

export type Guarantee = 'at_least_once' | 'exactly_once';

/**
 * When a kill comes: `steady` at its time; `rebalance` as soon as an instance starts a
 * rebalance; `catch-up` as soon as an instance starts catching up a standby (it is the one
 * killed); `warm-up` while an instance warms up before it joins (it is the one killed). A
 * moment that does not come within 20 s is missed, and the kill comes then.
 */
export type KillMoment = 'steady' | 'rebalance' | 'catch-up' | 'warm-up';

export interface ChaosOptions {
  guarantee: Guarantee;
  /** Input records to produce. */
  records: number;
  /** kill -9s to perform (each followed by a restart on the same state directory). */
  kills: number;
  /** Instances running at once (at least 2: one is always up while another is killed). */
  instances: number;
  /** The cluster. Default `KAFKA_BOOTSTRAP_SERVERS`. */
  bootstrapServers?: string;
  /** Distinct keys, `0` … `keys - 1`. Default 100. */
  keys?: number;
  /** Partitions of the input and output topics. Default 5. */
  partitions?: number;
  /** Mean time between kills (each interval is drawn from 0.7–1.3 times it). Default 5,000 ms. */
  killIntervalMs?: number;
  /** How long a killed instance stays down before it is restarted. Default 1,500 ms. */
  restartPauseMs?: number;
  /**
   * Freeze the victim (SIGSTOP) for this long and then let it go on (SIGCONT), instead of
   * kill -9 and restart. Longer than the session timeout, the group moves on without it: the
   * resumed instance is a zombie whose open transaction, positions and stores are stale, as on
   * a machine too loaded to run it. Default 0 (kill -9).
   */
  stallMs?: number;
  /**
   * Stop the victim with SIGTERM (a clean stop: it commits and hands its tasks over) instead of
   * kill -9, then restart it as after a kill: a rolling restart. Default false.
   */
  clean?: boolean;
  /** The kills' moments, in turn. Default `['steady']`. */
  moments?: KillMoment[];
  /** Standby replicas per task (`numStandbyReplicas`). Default 0. */
  standbys?: number;
  /**
   * Named instances (static members, `--instance-name`): a restart keeps its slot's name, and
   * warms up before it joins. Default false.
   */
  named?: boolean;
  /**
   * Query the instances while the run goes on (the store "tagged-count", half the lookups with
   * `stale=true`), and check that no answer shows a count the committed changelog never held.
   * Default false.
   */
  queries?: boolean;
  /**
   * What the async stage reads: `shared`, the input's own source, which the other branches read
   * too (under exactly-once, its commits wait for its calls); `repartitioned`, a repartition topic
   * of its own, so that its input is replayable and its commits wait for no call. Default `shared`.
   */
  asyncInput?: 'shared' | 'repartitioned';
  /** Input records per second. Default: spread over (kills + 1) kill intervals, so kills land while records flow. */
  ratePerSec?: number;
  /** How long to wait, after the last record and the last kill, for the group to commit every input. Default 120 s + 0.5 ms per record. */
  catchUpTimeoutMs?: number;
  /**
   * A transaction a killed instance left open is aborted by the broker after its timeout (10 s)
   * plus the broker's clean-up interval; open transactions are checked no earlier than this long
   * after the last kill. Default 25,000 ms.
   */
  transactionGraceMs?: number;
  /** Seed of the key generator. Default: random. */
  seed?: number;
  /** Where to write every instance's log when the run has violations or fails. */
  logDir?: string;
  /** Delete the run's topics, consumer group and state directories when it passes. Default true. */
  cleanup?: boolean;
  /** Progress lines. */
  progress?: (line: string) => void;
  /** The topology file the instances run (same topics and stores). Default eos-chaos.ts beside this file; another one checks the checker itself. */
  topology?: string;
}

/** The options with every default filled in. */
export type RunOptions = Required<Omit<ChaosOptions, 'logDir' | 'progress'>> & Pick<ChaosOptions, 'logDir' | 'progress'>;

export interface ChaosSummary {
  guarantee: Guarantee;
  applicationId: string;
  seed: number;
  records: number;
  keys: number;
  partitions: number;
  instances: number;
  kills: number;
  /** Instance processes started, restarts included. */
  processes: number;
  durationMs: number;
  phasesMs: { start: number; produce: number; catchUp: number; stop: number; verify: number };
  /** Records read (committed) from each output. */
  outputs: Record<string, number>;
  /** Output records beyond one per input (duplicates and recomputed updates; allowed at-least-once only). */
  extraOutputs: Record<string, number>;
  /** Per kill moment: kills meant for it, and those that came at it. */
  moments: Partial<Record<KillMoment, { tried: number; hit: number }>>;
  /** Lookups answered with a value (fresh, and from a standby with `stale=true`), and the statuses of all lookups. */
  queries: { fresh: number; stale: number; statuses: Record<string, number> };
  /** Calls the async stage made to the flaky service, and how many of them failed or stalled. */
  serviceCalls: { calls: number; failed: number; stalled: number };
  /** Every invariant checked for this guarantee, with the number of records (or keys, partitions, instances) that broke it. */
  violations: Record<string, number>;
  /** Up to a few examples per broken invariant. */
  examples: Record<string, string[]>;
  ok: boolean;
}

/** The run's topics: its application id names them all. */
export interface ChaosTopics {
  input: string;
  echo: string;
  sum: string;
  max: string;
  count: string;
  /** What the async stage wrote: each value, as the flaky service answered it. */
  async: string;
  /** The repartition topics: the count's, and the async stage's input when it has one. */
  repartitions: string[];
  changelogs: string[];
  /** The changelog of the store "tagged-count", which queries are checked against. */
  taggedChangelog: string;
}

const TOPOLOGY = path.join(import.meta.dirname, 'eos-chaos.ts');

export function resolveOptions(options: ChaosOptions): RunOptions {
  if (options.instances < 2) throw new Error('A chaos run needs at least 2 instances, so that one is up while another is killed.');
  const bootstrapServers = options.bootstrapServers ?? process.env.KAFKA_BOOTSTRAP_SERVERS;
  if (!bootstrapServers) throw new Error('A chaos run needs a cluster: set KAFKA_BOOTSTRAP_SERVERS or pass bootstrapServers.');
  const killIntervalMs = options.killIntervalMs ?? 5_000;
  return {
    guarantee: options.guarantee,
    records: options.records,
    kills: options.kills,
    instances: options.instances,
    bootstrapServers,
    keys: options.keys ?? 100,
    partitions: options.partitions ?? 5,
    killIntervalMs,
    restartPauseMs: options.restartPauseMs ?? 1_500,
    stallMs: options.stallMs ?? 0,
    clean: options.clean ?? false,
    moments: options.moments ?? ['steady'],
    standbys: options.standbys ?? 0,
    named: options.named ?? false,
    queries: options.queries ?? false,
    asyncInput: options.asyncInput ?? 'shared',
    ratePerSec: options.ratePerSec ?? Math.max(1, options.records / (((options.kills + 1) * killIntervalMs) / 1000)),
    catchUpTimeoutMs: options.catchUpTimeoutMs ?? 120_000 + options.records * 0.5,
    transactionGraceMs: options.transactionGraceMs ?? 25_000,
    seed: options.seed ?? Math.floor(Math.random() * 2 ** 31),
    cleanup: options.cleanup ?? true,
    logDir: options.logDir,
    progress: options.progress,
    topology: options.topology ?? TOPOLOGY,
  };
}

/** A new application id for a run of this guarantee. */
export function chaosApplicationId(guarantee: Guarantee): string {
  return `chaos-${guarantee === 'exactly_once' ? 'eos' : 'alos'}-${randomUUID().slice(0, 8)}`;
}

export function chaosTopics(applicationId: string, asyncInput: RunOptions['asyncInput'] = 'shared'): ChaosTopics {
  const name = (what: string) => `${applicationId}-${what}`;
  return {
    input: name('input'),
    echo: name('echo'),
    sum: name('sum'),
    max: name('max'),
    count: name('count'),
    async: name('async'),
    // Internal topics, named as Kafka Streams names them (see `sluice describe`).
    repartitions: [`${applicationId}-count-repartition`, ...(asyncInput === 'repartitioned' ? [`${applicationId}-call-input-repartition`] : [])],
    changelogs: ['sum', 'max', 'count', 'tagged-count'].map((store) => `${applicationId}-${store}-changelog`),
    taggedChangelog: `${applicationId}-tagged-count-changelog`,
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
