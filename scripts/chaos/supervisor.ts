/**
 * The chaos run's supervisor: runs the instances, each in a slot with a state directory of its
 * own, kill -9s (or freezes) one every few seconds while at least one other stays up, restarts a
 * killed one on the same state directory, and at the end stops them all with SIGTERM. Each
 * kill comes at its moment (options.ts: during a rebalance, a standby's catch-up, a warm-up).
 * An instance that exits by itself is an `instances.crashed` violation, one that does not exit
 * cleanly on SIGTERM, or at all within 60 s of its signal, a `shutdown.unclean` one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../../topologies/lib/seeded-random.ts';
import { InstanceProcess } from './instance.ts';
import { sleep, type ChaosTopics, type KillMoment, type RunOptions } from './options.ts';
import type { ViolationLog } from './violations.ts';

/** One instance slot: a state directory and the process currently running on it. */
interface Slot {
  index: number;
  stateDir: string;
  generation: number;
  instance: InstanceProcess | undefined;
  /** Down between a kill and its restart. */
  down: boolean;
}

/** What the supervisor reports to and reads from the run. */
export interface SupervisorContext {
  options: RunOptions;
  applicationId: string;
  topics: ChaosTopics;
  violations: ViolationLog;
  say: (line: string) => void;
  /** Input records produced so far, for progress lines. */
  produced: () => number;
  /** The flaky service's URL, for the async stage. */
  service: () => string;
}

export class Supervisor {
  /** Every instance process started, restarts included. */
  readonly started: InstanceProcess[] = [];
  /** Kills (or stalls) performed. */
  kills = 0;
  /** When the last kill (or stall) ended. */
  lastKillAt = 0;
  /** Per moment: kills meant for it, and those that came at it. */
  readonly moments: Partial<Record<KillMoment, { tried: number; hit: number }>> = {};
  private readonly slots: Slot[] = [];
  /** Processes the supervisor killed or stopped on purpose. */
  private readonly expectedExits = new WeakSet<InstanceProcess>();
  private readonly restarts = new Set<Promise<void>>();
  private readonly configFile: string;
  private stopping = false;

  constructor(private readonly run: SupervisorContext) {
    const { standbys } = run.options;
    const config: Record<string, unknown> = { kafka: { 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500 }, numStandbyReplicas: standbys, acceptableRecoveryLag: 500 };
    // Exactly-once keeps its default commit interval (100 ms).
    if (run.options.guarantee === 'at_least_once') config.commitIntervalMs = 200;
    this.configFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-chaos-')), 'config.json');
    fs.writeFileSync(this.configFile, JSON.stringify(config));
  }

  /** Starts every instance and waits until each runs. */
  async startAll(): Promise<void> {
    for (let index = 0; index < this.run.options.instances; index++) {
      const slot: Slot = { index, stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-state-chaos-')), generation: 0, instance: undefined, down: false };
      this.slots.push(slot);
      this.launch(slot);
    }
    await Promise.all(this.slots.map((s) => s.instance!.waitUntilRunning()));
  }

  /** Performs the run's kills (or stalls), then waits for the restarts they caused. */
  async killAndRestart(): Promise<void> {
    const { options, say } = this.run;
    const rand = seededRandom(options.seed ^ 0x5eed);
    for (let k = 0; k < options.kills; k++) {
      const moment = options.moments[k % options.moments.length]!;
      // A moment is watched for from the last kill on: what it marks may follow from that kill.
      const interval = options.killIntervalMs * (0.7 + 0.6 * rand());
      if (moment === 'steady') await sleep(interval);
      const up = () => this.slots.filter((s) => !s.down && s.instance?.alive);
      // One instance must stay up: wait for a restart if only one is.
      while (up().length < 2 && !this.stopping) await sleep(200);
      if (this.stopping) break;
      const slot = await this.victimAt(moment, rand, up);
      if (this.stopping) break;
      const victim = slot.instance!;
      const produced = () => `${this.run.produced()}/${options.records} records produced`;
      if (options.stallMs > 0) {
        slot.down = true;
        victim.child.kill('SIGSTOP');
        await sleep(options.stallMs);
        victim.child.kill('SIGCONT');
        slot.down = false;
        this.kills++;
        this.lastKillAt = Date.now();
        say(`stall ${this.kills}/${options.kills}: ${victim.name} (pid ${victim.child.pid}) frozen ${options.stallMs} ms, ${produced()}`);
        continue;
      }
      slot.down = true;
      await this.stop(victim, options.clean ? 'SIGTERM' : 'SIGKILL');
      this.kills++;
      this.lastKillAt = Date.now();
      say(`${options.clean ? 'stop' : 'kill'} ${this.kills}/${options.kills} (${moment}): ${victim.name} (pid ${victim.child.pid}), ${produced()}`);
      this.restartLater(slot);
    }
    await Promise.all(this.restarts);
  }

  /** The query endpoints of the instances that run now. */
  endpoints(): string[] {
    return this.slots.flatMap((slot) => {
      const instance = slot.instance;
      if (!instance?.alive || slot.down) return [];
      const started = instance.log.find((l) => l.msg === 'application started' && typeof l.queries === 'string');
      return started ? [(started.queries as string).replace(/\/v1\/stores$/, '')] : [];
    });
  }

  /**
   * The slot to kill at `moment`: waits (up to 20 s) for an instance that is up to log the line
   * that marks it, and takes that instance, or for a rebalance any instance up; past the wait,
   * or for `steady`, one drawn at random. Among at least two up, so one stays.
   */
  private async victimAt(moment: KillMoment, rand: () => number, up: () => Slot[]): Promise<Slot> {
    const tally = (this.moments[moment] ??= { tried: 0, hit: 0 });
    tally.tried++;
    const marks: Record<Exclude<KillMoment, 'steady'>, (line: Record<string, unknown>) => boolean> = {
      rebalance: (l) => l.msg === 'state changed' && l.to === 'REBALANCING',
      'catch-up': (l) => l.msg === 'standby started',
      'warm-up': (l) => l.msg === 'warming up the tasks this instance will own before it joins the group',
    };
    if (moment !== 'steady') {
      const mark = marks[moment];
      // Lines logged from now on; an instance started meanwhile has only such lines.
      const seen = new Map(this.slots.flatMap((s) => (s.instance ? [[s.instance, s.instance.log.length] as const] : [])));
      for (const deadline = Date.now() + 20_000; Date.now() < deadline && !this.stopping; ) {
        const candidates = up();
        const marked = candidates.find((s) => s.instance!.log.slice(seen.get(s.instance!) ?? 0).some(mark));
        if (marked && candidates.length >= 2) {
          tally.hit++;
          return moment === 'rebalance' ? candidates[Math.floor(rand() * candidates.length)]! : marked;
        }
        await sleep(20);
      }
      this.run.say(`no ${moment} within 20 s: killing at random`);
    }
    while (up().length < 2 && !this.stopping) await sleep(200);
    const candidates = up();
    return candidates[Math.floor(rand() * candidates.length)]!;
  }

  /** Stops every instance with SIGTERM; each must exit with code 0 within 60 s. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const running = this.slots.map((s) => s.instance).filter((i): i is InstanceProcess => i?.alive === true);
    await Promise.all(running.map((instance) => this.stop(instance, 'SIGTERM')));
    this.run.say(`stopped ${running.length} instances`);
  }

  /**
   * Signals an instance and waits for it to exit, at most 60 s (then SIGKILLs it). Under SIGTERM
   * it must exit with code 0; a wait that runs out is a `shutdown.unclean` violation either way,
   * so a process that never exits fails the run with its last lines instead of hanging it.
   */
  private async stop(instance: InstanceProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    this.expectedExits.add(instance);
    instance.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([instance.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 60_000)))]);
    clearTimeout(timer);
    if (result === 'timeout') {
      instance.child.kill('SIGKILL');
      this.run.violations.add('shutdown.unclean', () => `${instance.name} did not exit within 60 s of ${signal}; its last lines:\n${instance.tail(15)}`);
      await instance.exited;
    } else if (signal === 'SIGTERM' && result.code !== 0) {
      this.run.violations.add('shutdown.unclean', () => `${instance.name} exited with code ${result.code} (signal ${result.signal}) on SIGTERM; its last lines:\n${instance.tail(15)}`);
    }
  }

  /** SIGKILLs every instance process still running. */
  killAll(): void {
    this.stopping = true;
    for (const i of this.started) {
      if (i.alive) {
        this.expectedExits.add(i);
        i.child.kill('SIGKILL');
      }
    }
  }

  /** Writes every instance's log to `logDir`, one file per process. */
  writeLogs(): void {
    const dir = this.run.options.logDir;
    if (!dir) return;
    fs.mkdirSync(dir, { recursive: true });
    for (const i of this.started) fs.writeFileSync(path.join(dir, `${i.name}.log`), i.tail(Number.MAX_SAFE_INTEGER) + '\n');
    this.run.say(`instance logs written to ${dir}`);
  }

  /** Deletes the state directories and the config file. */
  removeFiles(): void {
    for (const slot of this.slots) fs.rmSync(slot.stateDir, { recursive: true, force: true });
    fs.rmSync(path.dirname(this.configFile), { recursive: true, force: true });
  }

  private launch(slot: Slot): void {
    const { options, applicationId, topics } = this.run;
    const name = `${applicationId}-i${slot.index}-g${slot.generation++}`;
    const instance = new InstanceProcess(
      name,
      [
        ...[options.topology, '--guarantee', options.guarantee, '--application-id', applicationId, '--state-dir', slot.stateDir, '--config', this.configFile],
        ...(options.named ? ['--instance-name', `i${slot.index}`] : []),
        ...(options.queries ? ['--http-port', '0'] : []),
      ],
      {
        KAFKA_BOOTSTRAP_SERVERS: options.bootstrapServers,
        CHAOS_INPUT: topics.input,
        CHAOS_ECHO: topics.echo,
        CHAOS_SUM: topics.sum,
        CHAOS_MAX: topics.max,
        CHAOS_COUNT: topics.count,
        CHAOS_ASYNC: topics.async,
        CHAOS_SERVICE: this.run.service(),
        CHAOS_ASYNC_INPUT: options.asyncInput,
      },
    );
    this.started.push(instance);
    slot.instance = instance;
    slot.down = false;
    void instance.exited.then(({ code, signal }) => {
      if (this.expectedExits.has(instance)) return;
      this.run.violations.add('instances.crashed', () => `${name} exited by itself (code ${code}, signal ${signal}); its last lines:\n${instance.tail(15)}`);
      this.run.say(`${name} exited by itself (code ${code}, signal ${signal})`);
      if (!this.stopping && slot.instance === instance) this.restartLater(slot);
    });
  }

  private restartLater(slot: Slot): void {
    slot.down = true;
    const restart = sleep(this.run.options.restartPauseMs).then(() => {
      if (!this.stopping) this.launch(slot);
    });
    this.restarts.add(restart);
    void restart.finally(() => this.restarts.delete(restart));
  }
}
