import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { SluiceError } from '../errors.ts';
import { defaultHome } from './home.ts';
import { acquireLock, isProcessOf, sleep, stopProcess } from './process-control.ts';
import { tail } from './run-program.ts';

/** A running service's process, as its state file records it. */
export interface ServiceProcess {
  pid: number;
}

/** Whether a service runs, and if so, where. */
export type ServiceStatus<P extends ServiceProcess> = ({ running: true } & P) | { running: false };

/** What every local service takes. */
export interface LocalServiceOptions {
  /** The cache folder; the service lives in a folder of its own inside it. Default: `SLUICE_HOME`, else `.sluice/`. */
  home?: string;
  /** Progress for people (one line each); results go elsewhere. */
  progress?: (line: string) => void;
}

/** What sets one service apart in the shared skeleton. */
export interface ServiceSpec {
  /** Its folder in the cache folder, e.g. `kafka`. */
  folder: string;
  /** Its name in a sentence, e.g. `the local broker`. */
  name: string;
  /** The file in its folder that records what runs, read again by later commands. */
  stateFile: string;
  /** Its log file, in its folder. */
  logFile: string;
  /** What its process's command line contains, which tells it apart from a process that reuses its pid. */
  marker: string;
  /** How long a start waits for another process's start of the same service. */
  lockTimeoutMs: number;
  /** How long it may take to stop after SIGTERM, before SIGKILL. */
  stopTimeoutMs: number;
  /** How long a process that runs is given to answer before it is restarted. */
  answerTimeoutMs: number;
  /** The service's own error, for its failures. */
  error: (message: string) => SluiceError;
}

/**
 * The skeleton the local development services share (the Kafka broker, the schema registry,
 * PostgreSQL). Each lives in a folder of its own under the cache folder and outlives the command
 * that started it; a state file there says what runs, and a process is found again by its pid and
 * told apart from a reused pid by its command line. `start` is idempotent and safe from several
 * processes at once (a lock file, taken over when its holder died): a process that answers is
 * reused, one that does not is stopped and started again. A service supplies what it runs and
 * how to tell that it answers.
 */
export abstract class LocalService<P extends ServiceProcess> {
  /** The service's folder. */
  readonly dir: string;
  protected readonly progress: (line: string) => void;

  protected constructor(
    protected readonly spec: ServiceSpec,
    options: LocalServiceOptions,
  ) {
    this.dir = path.join(options.home ?? defaultHome(), spec.folder);
    this.progress = options.progress ?? (() => {});
  }

  get logFile(): string {
    return path.join(this.dir, this.spec.logFile);
  }

  /** The service's name at the start of a sentence. */
  protected get title(): string {
    return this.spec.name.charAt(0).toUpperCase() + this.spec.name.slice(1);
  }

  protected get stateFile(): string {
    return path.join(this.dir, this.spec.stateFile);
  }

  /** Whether the service runs, and where. */
  async status(): Promise<ServiceStatus<P>> {
    const running = this.findRunning();
    return running ? { running: true, ...running } : { running: false };
  }

  /** Starts the service unless it runs and answers; resolves once it is ready. */
  async start(): Promise<P> {
    fs.mkdirSync(this.dir, { recursive: true });
    const lock = path.join(this.dir, 'start.lock');
    const stuck = (holder: number) =>
      this.spec.error(`Another process (pid ${holder}) has been starting ${this.spec.name} for too long; remove ${lock} if it is stuck.`);
    const release = await acquireLock(lock, stuck, this.spec.lockTimeoutMs);
    try {
      const current = this.findRunning();
      if (current) {
        if (await this.answers(current, this.spec.answerTimeoutMs)) return await this.reuse(current);
        this.progress(`${this.title} (pid ${current.pid}) does not answer; restarting it.`);
        await this.halt(current);
        this.forget();
      }
      return await this.launch();
    } finally {
      release();
    }
  }

  /** Stops the service. Returns whether it ran. */
  async stop(): Promise<boolean> {
    const current = this.findRunning();
    if (current) await this.halt(current);
    this.forget();
    return current !== undefined;
  }

  /** Starts the service's process (it does not run); resolves once it is ready. */
  protected abstract launch(): Promise<P>;

  /** Whether the running process serves requests, asked within `timeoutMs`. */
  protected abstract answers(running: P, timeoutMs: number): Promise<boolean>;

  /** What `start` returns for a process that runs and answers. */
  protected async reuse(running: P): Promise<P> {
    return running;
  }

  /** The process the state file names, unless it is gone or its pid now belongs to another program. */
  protected findRunning(): P | undefined {
    const state = this.readState();
    return state && isProcessOf(state.pid, this.spec.marker) ? state : undefined;
  }

  /** Stops the process: SIGTERM, then SIGKILL past the stop timeout. */
  protected async halt(running: P): Promise<void> {
    await stopProcess(running.pid, this.spec.marker, this.spec.stopTimeoutMs, () =>
      this.progress(`${this.title} (pid ${running.pid}) did not stop within ${this.spec.stopTimeoutMs / 1000} s; killing it.`),
    );
  }

  /** Forgets a process that no longer runs. */
  protected forget(): void {
    fs.rmSync(this.stateFile, { force: true });
  }

  protected readState(): P | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as P;
    } catch {
      return undefined;
    }
  }

  protected writeState(state: P): void {
    fs.writeFileSync(this.stateFile, JSON.stringify(state, null, 2));
  }

  /**
   * Starts `command` detached (it outlives this process), its output in the log file (the last
   * run's kept as `<log>.1`), records what `describe` makes of it in the state file, and waits
   * until it answers. When it exits first, or does not answer within `readyTimeoutMs`, it is
   * stopped and forgotten, and the error ends with the end of its log.
   */
  protected async launchDetached(command: string, args: string[], describe: (pid: number) => P, readyTimeoutMs: number): Promise<P> {
    if (fs.existsSync(this.logFile)) fs.renameSync(this.logFile, `${this.logFile}.1`);
    const logFd = fs.openSync(this.logFile, 'a');
    const child = spawn(command, args, { detached: true, stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    const ended = new Promise<string>((resolve) => {
      child.once('error', (err) => resolve(`could not start ${command}: ${err.message}`));
      child.once('exit', (code, signal) => resolve(`exited with ${code !== null ? `code ${code}` : signal}`));
    });
    child.unref();
    if (child.pid === undefined) throw this.spec.error(`${this.title} did not start (${await ended}).`);

    const running = describe(child.pid);
    this.writeState(running);
    const outcome = await Promise.race([
      this.waitUntilAnswers(running, readyTimeoutMs).then((ok) => (ok ? 'ready' : `no answer within ${readyTimeoutMs / 1000} s`)),
      ended,
    ]);
    if (outcome === 'ready') return running;
    await this.halt(running);
    this.forget();
    throw this.spec.error(`${this.title} did not start (${outcome}). Its log (${this.logFile}) ends with:\n${this.logTail(30)}`);
  }

  /** Asks the process again and again until it answers; false past `timeoutMs`. */
  protected async waitUntilAnswers(running: P, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      if (await this.answers(running, Math.min(5_000, left))) return true;
      await sleep(200);
    }
  }

  protected logTail(lines: number): string {
    try {
      return tail(fs.readFileSync(this.logFile, 'utf8'), lines);
    } catch {
      return '(no log)';
    }
  }
}
