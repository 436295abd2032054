/**
 * The kill -9 chaos harness, modelled on Kafka Streams' EOS system test: a generator writes
 * keyed integers to an input topic at a steady pace while 2–3 instances of
 * `test/fixtures/topologies/eos-chaos.ts` process them and the driver kill -9s one every few
 * seconds and restarts it on the same state directory; afterwards every output is read
 * committed and checked against the input. Shared by `test/chaos/eos.test.ts` and
 * `scripts/chaos.ts`; it manages its child processes itself (no mocha hooks).
 *
 * Exactly-once: each output holds one record per input, in order: the echo equals the input
 * partition by partition, each key's sums, maxima and counts are its running values; no
 * transaction is left open in any output, repartition or changelog partition. At-least-once:
 * nothing is lost: the echo holds every input record, each key's last sum is at least its true
 * sum, its last max is its true max and its largest count at least its number of inputs. Both:
 * no instance exits by itself, each exits 0 on SIGTERM, and the group catches up in time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaConsumer } from '../../engine/kafka/consumer.ts';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { readRanges } from '../../engine/kafka/reader.ts';
import type { ConsumedRecord } from '../../engine/kafka/records.ts';
import { Instance } from '../helpers/instances.ts';
import { bootstrapServers, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';
import { seededRandom } from '../../topologies/lib/seeded-random.ts';

export type Guarantee = 'at_least_once' | 'exactly_once';

export interface ChaosOptions {
  guarantee: Guarantee;
  /** Input records to produce. */
  records: number;
  /** kill -9s to perform (each followed by a restart on the same state directory). */
  kills: number;
  /** Instances running at once (at least 2: one is always up while another is killed). */
  instances: number;
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
  /** The topology file the instances run (same topics and stores). Default the eos-chaos fixture; another one checks the verifier itself. */
  topology?: string;
}

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
  /** Every invariant checked for this guarantee, with the number of records (or keys, partitions, instances) that broke it. */
  violations: Record<string, number>;
  /** Up to a few examples per broken invariant. */
  examples: Record<string, string[]>;
  ok: boolean;
}

const FIXTURE = 'test/fixtures/topologies/eos-chaos.ts';
const EXAMPLES = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const alive = (i: Instance | undefined) => i !== undefined && i.child.exitCode === null && i.child.signalCode === null;

/** Collects violations per invariant, with a few examples each. */
class ViolationLog {
  readonly counts: Record<string, number> = {};
  readonly examples: Record<string, string[]> = {};

  constructor(invariants: string[]) {
    for (const name of invariants) this.counts[name] = 0;
  }

  add(invariant: string, example: () => string, n = 1): void {
    this.counts[invariant] = (this.counts[invariant] ?? 0) + n;
    const examples = (this.examples[invariant] ??= []);
    if (examples.length < EXAMPLES) examples.push(example());
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

/**
 * What one stream of outputs (a partition of the echo, a key's sums, ...) must be: a strictly
 * increasing sequence of expected values. Each observed value is classified against it.
 */
class SequenceCheck {
  private readonly seen: Uint8Array;
  private lastIndex = -1;
  observed = 0;
  /** The value that was due when the last one was observed. */
  due: number | undefined;
  lastValue: number | undefined;
  largest: number | undefined;

  constructor(readonly expected: ArrayLike<number>) {
    this.seen = new Uint8Array(expected.length);
  }

  /**
   * `ok`: the next expected value; `duplicate`: one observed before; `unexpected`: not in the
   * sequence at all; `outOfOrder`: expected, but some before it have not been observed yet.
   */
  observe(value: number): 'ok' | 'duplicate' | 'unexpected' | 'outOfOrder' {
    this.observed++;
    this.due = this.expected[this.lastIndex + 1];
    this.lastValue = value;
    if (this.largest === undefined || value > this.largest) this.largest = value;
    const i = indexOf(this.expected, value);
    if (i < 0) return 'unexpected';
    if (this.seen[i]) return 'duplicate';
    this.seen[i] = 1;
    const inOrder = i === this.lastIndex + 1;
    this.lastIndex = i;
    return inOrder ? 'ok' : 'outOfOrder';
  }

  /** Expected values never observed. */
  missing(): number[] {
    const missing: number[] = [];
    for (let i = 0; i < this.expected.length; i++) if (!this.seen[i]) missing.push(this.expected[i]!);
    return missing;
  }
}

function indexOf(sorted: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The run's topics. */
interface Topics {
  input: string;
  echo: string;
  sum: string;
  max: string;
  count: string;
  repartition: string;
  changelogs: string[];
}

/** The input as it is in Kafka: per partition its values in offset order, and per key its values. */
class InputTruth {
  readonly byPartition: number[][];
  readonly byKey: number[][];
  /** value -> key index (-1: not an input value). */
  private readonly keyOfValue: Int32Array;

  constructor(partitions: number, keys: number, maxValue: number) {
    this.byPartition = Array.from({ length: partitions }, () => []);
    this.byKey = Array.from({ length: keys }, () => []);
    this.keyOfValue = new Int32Array(maxValue + 1).fill(-1);
  }

  add(partition: number, key: number, value: number): void {
    this.byPartition[partition]!.push(value);
    this.byKey[key]!.push(value);
    this.keyOfValue[value] = key;
  }

  keyOf(value: number): number {
    return Number.isInteger(value) && value >= 0 && value < this.keyOfValue.length ? this.keyOfValue[value]! : -1;
  }
}

/** One instance slot: a state directory and the process currently running on it. */
interface Slot {
  index: number;
  stateDir: string;
  generation: number;
  instance: Instance | undefined;
  /** Down between a kill and its restart. */
  down: boolean;
}

/**
 * One chaos run. `runChaos()` creates it, runs it and always kills what it started; use the
 * class directly only to reach `killAll()` from a signal handler.
 */
export class ChaosRun {
  readonly options: Required<Omit<ChaosOptions, 'logDir' | 'progress'>> & Pick<ChaosOptions, 'logDir' | 'progress'>;
  readonly applicationId: string;
  readonly topics: Topics;
  private readonly slots: Slot[] = [];
  /** Every instance process started, for logs and clean-up. */
  private readonly started: Instance[] = [];
  /** Processes the driver killed or stopped on purpose. */
  private readonly expectedExits = new WeakSet<Instance>();
  private readonly configFile: string;
  private readonly restarts = new Set<Promise<void>>();
  private readonly violations: ViolationLog;
  private stopping = false;
  private kills = 0;
  private lastKillAt = 0;
  private produced = 0;
  private readonly t0 = Date.now();
  private readonly onExit = () => this.killAll();

  constructor(options: ChaosOptions) {
    if (options.instances < 2) throw new Error('A chaos run needs at least 2 instances, so that one is up while another is killed.');
    const killIntervalMs = options.killIntervalMs ?? 5_000;
    this.options = {
      guarantee: options.guarantee,
      records: options.records,
      kills: options.kills,
      instances: options.instances,
      keys: options.keys ?? 100,
      partitions: options.partitions ?? 5,
      killIntervalMs,
      restartPauseMs: options.restartPauseMs ?? 1_500,
      stallMs: options.stallMs ?? 0,
      ratePerSec: options.ratePerSec ?? Math.max(1, options.records / (((options.kills + 1) * killIntervalMs) / 1000)),
      catchUpTimeoutMs: options.catchUpTimeoutMs ?? 120_000 + options.records * 0.5,
      transactionGraceMs: options.transactionGraceMs ?? 25_000,
      seed: options.seed ?? Math.floor(Math.random() * 2 ** 31),
      cleanup: options.cleanup ?? true,
      logDir: options.logDir,
      progress: options.progress,
      topology: options.topology ?? FIXTURE,
    };
    const tag = options.guarantee === 'exactly_once' ? 'eos' : 'alos';
    this.applicationId = uniqueName(`chaos-${tag}`);
    const name = (what: string) => `${this.applicationId}-${what}`;
    this.topics = {
      input: name('input'),
      echo: name('echo'),
      sum: name('sum'),
      max: name('max'),
      count: name('count'),
      // Internal topics, named as Kafka Streams names them (see `sluice describe`).
      repartition: `${this.applicationId}-count-repartition`,
      changelogs: ['sum', 'max', 'count'].map((store) => `${this.applicationId}-${store}-changelog`),
    };
    this.violations = new ViolationLog(
      options.guarantee === 'exactly_once'
        ? [
            'input.notAsProduced',
            ...['echo', 'sum', 'max', 'count'].flatMap((o) => [`${o}.unexpected`, `${o}.duplicate`, `${o}.outOfOrder`, `${o}.missing`]),
            'transactions.open',
            'instances.crashed',
            'shutdown.unclean',
            'catchUp.timeout',
          ]
        : [
            'input.notAsProduced',
            'echo.unexpected',
            'echo.missing',
            'sum.belowTrueSum',
            'max.lastNotTrueMax',
            'count.belowTrueCount',
            'instances.crashed',
            'shutdown.unclean',
            'catchUp.timeout',
          ],
    );
    const config: Record<string, unknown> = { kafka: { 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500 } };
    // Exactly-once keeps its default commit interval (100 ms).
    if (options.guarantee === 'at_least_once') config.commitIntervalMs = 200;
    this.configFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-chaos-')), 'config.json');
    fs.writeFileSync(this.configFile, JSON.stringify(config));
  }

  private say(line: string): void {
    this.options.progress?.(`[chaos ${((Date.now() - this.t0) / 1000).toFixed(1)}s] ${line}`);
  }

  async run(): Promise<ChaosSummary> {
    process.on('exit', this.onExit);
    try {
      return await this.execute();
    } catch (err) {
      this.writeLogs();
      throw err;
    } finally {
      this.killAll();
      process.off('exit', this.onExit);
    }
  }

  /** SIGKILLs every instance process still running. */
  killAll(): void {
    this.stopping = true;
    for (const i of this.started) {
      if (alive(i)) {
        this.expectedExits.add(i);
        i.child.kill('SIGKILL');
      }
    }
  }

  private async execute(): Promise<ChaosSummary> {
    const o = this.options;
    this.say(
      `${o.guarantee}: ${o.records} records over ${o.keys} keys at ${Math.round(o.ratePerSec)}/s, ${o.instances} instances, ` +
        `${o.kills} ${o.stallMs > 0 ? `stalls of ${o.stallMs} ms` : 'kills'} every ~${o.killIntervalMs} ms, application ${this.applicationId}, seed ${o.seed}`,
    );
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    try {
      const { input, echo, sum, max, count } = this.topics;
      await admin.createTopics([input, echo, sum, max, count].map((name) => ({ name, partitions: o.partitions })));
    } finally {
      admin.disconnect();
    }

    const tStart = Date.now();
    for (let index = 0; index < o.instances; index++) {
      const slot: Slot = { index, stateDir: tempStateDir(), generation: 0, instance: undefined, down: false };
      this.slots.push(slot);
      this.launch(slot);
    }
    await Promise.all(this.slots.map((s) => s.instance!.waitUntilRunning()));
    const startMs = Date.now() - tStart;
    this.say(`${o.instances} instances running after ${startMs} ms`);

    const tProduce = Date.now();
    const generator = this.generate();
    const killer = this.killLoop();
    await generator;
    const produceMs = Date.now() - tProduce;
    this.say(`produced ${this.produced} records in ${produceMs} ms`);
    await killer;
    await Promise.all(this.restarts);

    const tCatchUp = Date.now();
    await this.waitForCatchUp();
    const catchUpMs = Date.now() - tCatchUp;

    const tStop = Date.now();
    await this.stopAll();
    const stopMs = Date.now() - tStop;

    const tVerify = Date.now();
    const { outputs, extraOutputs } = await this.verify();
    const verifyMs = Date.now() - tVerify;

    const summary: ChaosSummary = {
      guarantee: o.guarantee,
      applicationId: this.applicationId,
      seed: o.seed,
      records: this.produced,
      keys: o.keys,
      partitions: o.partitions,
      instances: o.instances,
      kills: this.kills,
      processes: this.started.length,
      durationMs: Date.now() - this.t0,
      phasesMs: { start: startMs, produce: produceMs, catchUp: catchUpMs, stop: stopMs, verify: verifyMs },
      outputs,
      extraOutputs,
      violations: this.violations.counts,
      examples: this.violations.examples,
      ok: this.violations.total === 0,
    };
    if (summary.ok) {
      if (o.cleanup) await this.cleanUp();
    } else {
      this.writeLogs();
    }
    return summary;
  }

  // ---- instances -------------------------------------------------------------------------

  private launch(slot: Slot): void {
    const name = `${this.applicationId}-i${slot.index}-g${slot.generation++}`;
    const { input, echo, sum, max, count } = this.topics;
    const instance = new Instance(
      name,
      [this.options.topology, '--guarantee', this.options.guarantee, '--application-id', this.applicationId, '--state-dir', slot.stateDir, '--config', this.configFile],
      { CHAOS_INPUT: input, CHAOS_ECHO: echo, CHAOS_SUM: sum, CHAOS_MAX: max, CHAOS_COUNT: count },
    );
    this.started.push(instance);
    slot.instance = instance;
    slot.down = false;
    void instance.exited.then(({ code, signal }) => {
      if (this.expectedExits.has(instance)) return;
      this.violations.add('instances.crashed', () => `${name} exited by itself (code ${code}, signal ${signal}); its last lines:\n${instance.tail(15)}`);
      this.say(`${name} exited by itself (code ${code}, signal ${signal})`);
      if (!this.stopping && slot.instance === instance) this.restartLater(slot);
    });
  }

  private restartLater(slot: Slot): void {
    slot.down = true;
    const restart = sleep(this.options.restartPauseMs).then(() => {
      if (!this.stopping) this.launch(slot);
    });
    this.restarts.add(restart);
    void restart.finally(() => this.restarts.delete(restart));
  }

  private async killLoop(): Promise<void> {
    const rand = seededRandom(this.options.seed ^ 0x5eed);
    for (let k = 0; k < this.options.kills; k++) {
      await sleep(this.options.killIntervalMs * (0.7 + 0.6 * rand()));
      const up = () => this.slots.filter((s) => !s.down && alive(s.instance));
      // One instance must stay up: wait for a restart if only one is.
      while (up().length < 2 && !this.stopping) await sleep(200);
      if (this.stopping) return;
      const candidates = up();
      const slot = candidates[Math.floor(rand() * candidates.length)]!;
      const victim = slot.instance!;
      if (this.options.stallMs > 0) {
        slot.down = true;
        victim.child.kill('SIGSTOP');
        await sleep(this.options.stallMs);
        victim.child.kill('SIGCONT');
        slot.down = false;
        this.kills++;
        this.lastKillAt = Date.now();
        this.say(`stall ${this.kills}/${this.options.kills}: ${victim.name} (pid ${victim.child.pid}) frozen ${this.options.stallMs} ms, ${this.produced}/${this.options.records} records produced`);
        continue;
      }
      this.expectedExits.add(victim);
      slot.down = true;
      victim.child.kill('SIGKILL');
      await victim.exited;
      this.kills++;
      this.lastKillAt = Date.now();
      this.say(`kill ${this.kills}/${this.options.kills}: ${victim.name} (pid ${victim.child.pid}), ${this.produced}/${this.options.records} records produced`);
      this.restartLater(slot);
    }
  }

  /** Stops every instance with SIGTERM; each must exit with code 0. */
  private async stopAll(): Promise<void> {
    this.stopping = true;
    const running = this.slots.map((s) => s.instance).filter(alive) as Instance[];
    await Promise.all(
      running.map(async (instance) => {
        this.expectedExits.add(instance);
        instance.child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const result = await Promise.race([instance.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 60_000)))]);
        clearTimeout(timer);
        if (result === 'timeout') {
          instance.child.kill('SIGKILL');
          this.violations.add('shutdown.unclean', () => `${instance.name} did not exit within 60 s of SIGTERM; its last lines:\n${instance.tail(15)}`);
        } else if (result.code !== 0) {
          this.violations.add('shutdown.unclean', () => `${instance.name} exited with code ${result.code} (signal ${result.signal}) on SIGTERM; its last lines:\n${instance.tail(15)}`);
        }
      }),
    );
    this.say(`stopped ${running.length} instances`);
  }

  /** Writes every instance's log to `logDir`, one file per process. */
  private writeLogs(): void {
    const dir = this.options.logDir;
    if (!dir) return;
    fs.mkdirSync(dir, { recursive: true });
    for (const i of this.started) fs.writeFileSync(path.join(dir, `${i.name}.log`), i.tail(Number.MAX_SAFE_INTEGER) + '\n');
    this.say(`instance logs written to ${dir}`);
  }

  private async cleanUp(): Promise<void> {
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    try {
      const t = this.topics;
      await admin.deleteTopics([t.input, t.echo, t.sum, t.max, t.count, t.repartition, ...t.changelogs]);
      await admin.deleteGroups([this.applicationId]).catch(() => undefined);
    } finally {
      admin.disconnect();
    }
    for (const slot of this.slots) fs.rmSync(slot.stateDir, { recursive: true, force: true });
    fs.rmSync(path.dirname(this.configFile), { recursive: true, force: true });
  }

  // ---- generator -------------------------------------------------------------------------

  /** Produces the input at a steady pace: values 1..records, keys drawn from the seed. */
  private async generate(): Promise<void> {
    const { records, keys, ratePerSec, seed } = this.options;
    const rand = seededRandom(seed);
    const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
    try {
      await producer.loadPartitionCounts([this.topics.input]);
      const start = Date.now();
      while (this.produced < records) {
        const due = Math.min(records, Math.max(this.produced + 1, Math.floor(((Date.now() - start) * ratePerSec) / 1000)));
        while (this.produced < due) {
          const value = ++this.produced;
          const key = String(Math.floor(rand() * keys));
          producer.send({ topic: this.topics.input, key: Buffer.from(key), value: Buffer.from(String(value)) });
        }
        await producer.flush();
        await sleep(20);
      }
    } finally {
      await producer.disconnect();
    }
  }

  // ---- waiting for the group -------------------------------------------------------------

  /**
   * Waits until the group has committed every input record, and then every record of the
   * repartition topic (both sub-topologies are done). A transactional topic ends in commit
   * markers, which no consumer commits past, so a partition counts as done when the committed
   * offset passes its last committed record and no transaction is open in it.
   */
  private async waitForCatchUp(): Promise<void> {
    const deadline = Date.now() + this.options.catchUpTimeoutMs;
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    const tails = await TailReader.connect();
    try {
      let lagging: string[] = [];
      let lastReport = 0;
      for (;;) {
        const committed = new Map((await admin.groupOffsets(this.applicationId)).map((o) => [`${o.topic}[${o.partition}]`, o.offset]));
        lagging = [];
        for (const { partition, high } of await admin.topicOffsets(this.topics.input)) {
          const at = committed.get(`${this.topics.input}[${partition}]`) ?? 0;
          if (at < high) lagging.push(`${this.topics.input}[${partition}] at ${at} of ${high}`);
        }
        if (lagging.length === 0) {
          for (const tail of await tails.ends(this.topics.repartition)) {
            const at = committed.get(`${this.topics.repartition}[${tail.partition}]`) ?? 0;
            if (tail.stable < tail.high) lagging.push(`${this.topics.repartition}[${tail.partition}] has a transaction open (stable ${tail.stable}, high ${tail.high})`);
            else if (at < tail.end) lagging.push(`${this.topics.repartition}[${tail.partition}] at ${at} of ${tail.end}`);
          }
        }
        if (lagging.length === 0) {
          this.say('the group has committed every input and repartitioned record');
          return;
        }
        if (Date.now() > deadline) break;
        if (Date.now() - lastReport > 10_000) {
          this.say(`waiting for the group: ${lagging.slice(0, 3).join('; ')}${lagging.length > 3 ? ` (+${lagging.length - 3})` : ''}`);
          lastReport = Date.now();
        }
        await sleep(1_000);
      }
      for (const l of lagging) this.violations.add('catchUp.timeout', () => `after ${this.options.catchUpTimeoutMs} ms: ${l}`);
      this.say(`gave up waiting for the group: ${lagging.join('; ')}`);
    } finally {
      admin.disconnect();
      await tails.close();
    }
  }

  // ---- verification ----------------------------------------------------------------------

  private async verify(): Promise<{ outputs: Record<string, number>; extraOutputs: Record<string, number> }> {
    const eos = this.options.guarantee === 'exactly_once';
    const tails = await TailReader.connect((line) => this.say(line));
    try {
      if (eos) {
        // Transactions a killed instance left open are aborted by the broker after their timeout.
        const wait = this.lastKillAt + this.options.transactionGraceMs - Date.now();
        if (wait > 0) {
          this.say(`waiting ${wait} ms (the transaction timeout since the last kill) before looking for open transactions`);
          await sleep(wait);
        }
        const t = this.topics;
        for (const topic of [t.echo, t.sum, t.max, t.count, t.repartition, ...t.changelogs]) {
          const ends = await tails.watermarks(topic);
          if (ends.length === 0) this.violations.add('transactions.open', () => `${topic} does not exist`);
          for (const e of ends) {
            if (e.stable !== e.high) {
              this.violations.add('transactions.open', () => `${topic}[${e.partition}]: last stable offset ${e.stable} < high watermark ${e.high}`);
            }
          }
        }
      }
      const truth = await this.readInput(tails);
      return await this.checkOutputs(tails, truth, eos);
    } finally {
      await tails.close();
    }
  }

  /** Reads the input back: it is the truth the outputs are checked against. */
  private async readInput(tails: TailReader): Promise<InputTruth> {
    const { keys, partitions } = this.options;
    const truth = new InputTruth(partitions, keys, this.produced);
    let count = 0;
    await tails.readCommitted(this.topics.input, (r) => {
      count++;
      const key = Number(r.key?.toString());
      const value = Number(r.value?.toString());
      const previous = truth.byPartition[r.partition]?.at(-1) ?? 0;
      if (!(Number.isInteger(key) && key >= 0 && key < keys && Number.isInteger(value) && value > previous && value <= this.produced)) {
        this.violations.add('input.notAsProduced', () => `${r.topic}[${r.partition}]@${r.offset}: key ${r.key}, value ${r.value} (previous ${previous})`);
        return;
      }
      truth.add(r.partition, key, value);
    });
    if (count !== this.produced) {
      this.violations.add('input.notAsProduced', () => `the input holds ${count} records; ${this.produced} were produced`, Math.abs(count - this.produced));
    }
    return truth;
  }

  private async checkOutputs(tails: TailReader, truth: InputTruth, eos: boolean): Promise<{ outputs: Record<string, number>; extraOutputs: Record<string, number> }> {
    const { keys } = this.options;
    const outputs: Record<string, number> = {};
    const where = (r: ConsumedRecord) => `${r.topic.slice(this.applicationId.length + 1)}[${r.partition}]@${r.offset}`;

    // The echo, per partition: the input's values, in order, once each.
    const echo = truth.byPartition.map((values) => new SequenceCheck(values));
    outputs.echo = 0;
    await tails.readCommitted(this.topics.echo, (r) => {
      outputs.echo!++;
      const value = Number(r.value?.toString());
      const key = r.key?.toString();
      const check = echo[r.partition];
      const verdict = check && key === String(truth.keyOf(value)) ? check.observe(value) : 'unexpected';
      if (verdict === 'ok' || (!eos && verdict !== 'unexpected')) return;
      this.violations.add(`echo.${verdict}`, () => `${where(r)}: key ${key}, value ${value} (${describe(verdict, value, check)})`);
    });
    echo.forEach((check, partition) => {
      const missing = check.missing();
      if (missing.length > 0) {
        this.violations.add('echo.missing', () => `echo[${partition}] lacks ${missing.length} input value(s), e.g. ${missing.slice(0, 5).join(', ')}`, missing.length);
      }
    });

    // Per key: sums, maxima and counts, one per input, in order. Values increase along a key's
    // inputs, so each expected sequence is strictly increasing.
    const expected = {
      sum: truth.byKey.map((values) => {
        let sum = 0;
        return Float64Array.from(values, (v) => (sum += v));
      }),
      max: truth.byKey.map((values) => Float64Array.from(values)),
      count: truth.byKey.map((values) => Float64Array.from(values, (_, i) => i + 1)),
    };
    for (const output of ['sum', 'max', 'count'] as const) {
      const checks = expected[output].map((sequence) => new SequenceCheck(sequence));
      outputs[output] = 0;
      await tails.readCommitted(this.topics[output], (r) => {
        outputs[output]!++;
        const key = Number(r.key?.toString());
        const value = Number(r.value?.toString());
        const check = Number.isInteger(key) && key >= 0 && key < keys ? checks[key] : undefined;
        const verdict = check ? check.observe(value) : 'unexpected';
        if (!eos || verdict === 'ok') return;
        this.violations.add(`${output}.${verdict}`, () => `${where(r)}: key ${r.key}, ${output} ${value} (${describe(verdict, value, check)})`);
      });
      checks.forEach((check, key) => {
        const sequence = expected[output][key]!;
        const last = sequence.at(-1);
        if (eos) {
          const missing = check.missing();
          if (missing.length > 0) {
            this.violations.add(
              `${output}.missing`,
              () => `key ${key}: ${missing.length} of its ${sequence.length} ${output} updates never came, e.g. ${missing.slice(0, 5).join(', ')}`,
              missing.length,
            );
          }
        } else if (last !== undefined) {
          const seen = `${check.observed} outputs, last ${check.lastValue}, largest ${check.largest}`;
          if (output === 'sum' && !(check.lastValue !== undefined && check.lastValue >= last)) {
            this.violations.add('sum.belowTrueSum', () => `key ${key}: true sum ${last}; ${seen}`);
          }
          if (output === 'max' && check.lastValue !== last) {
            this.violations.add('max.lastNotTrueMax', () => `key ${key}: true max ${last}; ${seen}`);
          }
          if (output === 'count' && !(check.largest !== undefined && check.largest >= last)) {
            this.violations.add('count.belowTrueCount', () => `key ${key}: ${last} inputs; ${seen}`);
          }
        }
      });
    }
    const extraOutputs = Object.fromEntries(Object.entries(outputs).map(([output, n]) => [output, Math.max(0, n - this.produced)]));
    return { outputs, extraOutputs };
  }
}

function describe(verdict: string, value: number, check: SequenceCheck | undefined): string {
  if (!check) return 'not a key or partition of the input';
  switch (verdict) {
    case 'duplicate':
      return `seen before; ${check.due ?? 'nothing more'} was due`;
    case 'unexpected':
      return `not among the ${check.expected.length} expected values; ${check.due ?? 'nothing more'} was due`;
    case 'outOfOrder':
      return `${check.due ?? 'nothing more'} was due`;
    default:
      return verdict;
  }
}

/** Reads partitions' watermarks and committed contents, with one consumer per isolation level. */
class TailReader {
  private constructor(
    private readonly committed: KafkaConsumer,
    private readonly uncommitted: KafkaConsumer,
    private readonly progress?: (line: string) => void,
  ) {}

  static async connect(progress?: (line: string) => void): Promise<TailReader> {
    const options = { bootstrapServers: bootstrapServers() };
    const [committed, uncommitted] = await Promise.all([
      KafkaConsumer.connect({ ...options, isolationLevel: 'read_committed' }),
      KafkaConsumer.connect({ ...options, isolationLevel: 'read_uncommitted' }),
    ]);
    return new TailReader(committed, uncommitted, progress);
  }

  /** Per partition: the low watermark, the last stable offset (read committed) and the high watermark. */
  async watermarks(topic: string): Promise<Array<{ partition: number; low: number; stable: number; high: number }>> {
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    let partitions: number;
    try {
      partitions = (await admin.topicOffsets(topic)).length;
    } finally {
      admin.disconnect();
    }
    const result = [];
    for (let partition = 0; partition < partitions; partition++) {
      const [stable, high] = await Promise.all([this.committed.watermarks(topic, partition), this.uncommitted.watermarks(topic, partition)]);
      result.push({ partition, low: high.low, stable: stable.high, high: high.high });
    }
    return result;
  }

  /**
   * Per partition, besides its watermarks: `end`, one past its last committed record (0 if it
   * has none), found by reading ever longer stretches before the last stable offset.
   */
  async ends(topic: string): Promise<Array<{ partition: number; stable: number; high: number; end: number }>> {
    const result = [];
    for (const { partition, low, stable, high } of await this.watermarks(topic)) {
      let end = 0;
      for (let window = 64; ; window *= 4) {
        const from = Math.max(low, stable - window);
        let last = -1;
        await readRanges(this.committed, [{ topic, partition, from, to: stable }], (records) => {
          for (const r of records) last = Math.max(last, r.offset);
        });
        this.committed.assign([]);
        if (last >= 0) end = last + 1;
        if (last >= 0 || from === low) break;
      }
      result.push({ partition, stable, high, end });
    }
    return result;
  }

  /** Every committed record of `topic` up to its last stable offsets, each partition in offset order. */
  async readCommitted(topic: string, onRecord: (record: ConsumedRecord) => void): Promise<number> {
    const ranges = (await this.watermarks(topic)).map(({ partition, low, stable }) => ({ topic, partition, from: low, to: stable }));
    let n = 0;
    const start = Date.now();
    await readRanges(this.committed, ranges, (records) => {
      n += records.length;
      for (const r of records) onRecord(r);
    });
    // An idle assignment keeps fetching, which slows the next watermark queries down.
    this.committed.assign([]);
    this.progress?.(`read ${n} committed records of ${topic} in ${Date.now() - start} ms`);
    return n;
  }

  async close(): Promise<void> {
    await Promise.all([this.committed.disconnect(), this.uncommitted.disconnect()]);
  }
}

/** Runs one chaos run and returns its summary; every process it started is gone when it returns. */
export function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  return new ChaosRun(options).run();
}

/** A failure message that says which invariants broke, with examples. */
export function describeViolations(summary: ChaosSummary): string {
  const broken = Object.entries(summary.violations).filter(([, n]) => n > 0);
  if (broken.length === 0) return 'no violations';
  return broken
    .map(([name, n]) => `${name}: ${n}\n${(summary.examples[name] ?? []).map((e) => `    ${e.replace(/\n/g, '\n      ')}`).join('\n')}`)
    .join('\n');
}
