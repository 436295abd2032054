import { fork, type ChildProcess } from 'node:child_process';
import { ApplicationError } from '../../errors.ts';
import type { HttpOptions } from '../../iq/service.ts';
import type { Logger } from '../../observability/logger.ts';
import type { CompiledTopology } from '../../topology/compiled.ts';
import type { ApplicationState } from '../lifecycle.ts';
import { FrontServer, type ThreadEndpoint } from './front-server.ts';
import { JOIN_MESSAGE, type ThreadReport } from './member.ts';
import { STREAM_THREAD_ENV, STREAM_THREAD_FRONT_ENV } from './thread-role.ts';

export interface StreamThreadsOptions {
  threads: number;
  topology: CompiledTopology;
  /** The instance's query server, served by the front server; none when absent. */
  http?: HttpOptions;
  log: Logger;
  /** How long each thread may take to close before it is killed. */
  shutdownTimeoutMs: number;
  /** The script each thread runs, with its arguments: by default this process's own, as node:cluster does. */
  script?: string;
  args?: string[];
}

/** One stream thread: a child process running the same script as an instance of its own. */
class StreamThread implements ThreadEndpoint {
  port: number | undefined;
  /** Connected, and waiting for the others to join the group with them. */
  joining = false;
  state: ApplicationState = 'STARTING';
  exitCode: number | null | undefined;
  readonly exited: Promise<void>;

  constructor(
    readonly index: number,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve();
      });
    });
    child.on('message', (message: ThreadReport) => {
      if (message?.sluice === 'thread-joining') this.joining = true;
      else if (message?.sluice === 'thread-started') this.port = message.port;
      else if (message?.sluice === 'thread-state') this.state = message.state as ApplicationState;
    });
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }
}

/**
 * An instance of `numStreamThreads` stream threads (Kafka Streams' `num.stream.threads`). Each
 * thread is a child process that runs this process's script again (as node:cluster does) with
 * its role in the environment, and there it is an application of its own: a member of the
 * group with its own tasks, clients and event loop, so the instance uses that many cores. The
 * native Kafka client cannot load twice in one process, which rules out worker threads. The
 * threads share the state directory (each task's directory is locked by its owner) and serve
 * their queries behind one front server on the instance's address.
 *
 * A thread that exits on its own stops the instance: the others close, and `finished` rejects
 * (with code 0, as after a signal to the process group, it resolves).
 */
export class StreamThreads {
  readonly topology: CompiledTopology;
  readonly finished: Promise<void>;
  private readonly options: StreamThreadsOptions;
  private readonly threads: StreamThread[] = [];
  private front?: FrontServer;
  private closing?: Promise<void>;
  private settle!: { resolve: () => void; reject: (err: unknown) => void };

  constructor(options: StreamThreadsOptions) {
    this.options = options;
    this.topology = options.topology;
    this.finished = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.finished.catch(() => undefined);
  }

  /** The front server's address, when the instance serves queries. */
  get endpoint(): string | undefined {
    return this.front?.endpoint;
  }

  /** RUNNING once every thread runs; the first thread's state that is not RUNNING otherwise. */
  get state(): ApplicationState {
    if (this.threads.length === 0) return 'CREATED';
    return this.threads.find((t) => t.state !== 'RUNNING')?.state ?? 'RUNNING';
  }

  /** Starts the front server, then every thread; returns once every thread has started. */
  async start(): Promise<void> {
    const { options } = this;
    if (options.http) this.front = await FrontServer.start(options.http, () => this.threads, options.log);
    for (let i = 0; i < options.threads; i++) this.threads.push(this.spawn(i));
    for (const thread of this.threads) void thread.exited.then(() => this.onExit(thread));
    // The threads join the group together: its first assignment shares the partitions among all.
    for (const thread of this.threads) {
      thread.child.on('message', (message: ThreadReport) => {
        if (message?.sluice !== 'thread-joining' || !this.threads.every((t) => t.joining)) return;
        for (const t of this.threads) if (t.alive) t.child.send(JOIN_MESSAGE);
      });
    }
    await Promise.race([
      Promise.all(this.threads.map((t) => this.started(t))),
      // A close() meanwhile ends the start quietly; a thread that stopped on its own fails it.
      this.finished.then(() => {
        if (!this.closing) throw new ApplicationError('The stream threads stopped while starting.');
      }),
    ]);
  }

  /** Stops every thread (SIGTERM: each finishes its batch, commits and leaves the group), then the front server. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.threads.map((t) => this.stop(t)));
      await this.front?.close();
      const failed = this.threads.find((t) => t.exitCode !== 0 && t.exitCode !== undefined && t.exitCode !== null);
      if (failed) this.settle.reject(new ApplicationError(`Stream thread ${failed.index} exited with code ${failed.exitCode}.`));
      else this.settle.resolve();
    })();
    return this.closing;
  }

  private spawn(index: number): StreamThread {
    const { options } = this;
    const env = { ...process.env, [STREAM_THREAD_ENV]: `${index}/${options.threads}`, [STREAM_THREAD_FRONT_ENV]: this.front?.endpoint ?? '' };
    const child = fork(options.script ?? process.argv[1]!, options.args ?? process.argv.slice(2), { env, execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    options.log.info({ thread: index, pid: child.pid }, 'stream thread started');
    return new StreamThread(index, child);
  }

  /** Resolves once the thread reported that it started (its server listening, if any). */
  private started(thread: StreamThread): Promise<void> {
    return new Promise((resolve) => {
      const onMessage = (message: ThreadReport) => {
        if (message?.sluice !== 'thread-started') return;
        thread.child.off('message', onMessage);
        resolve();
      };
      thread.child.on('message', onMessage);
      void thread.exited.then(resolve);
    });
  }

  private onExit(thread: StreamThread): void {
    if (this.closing) return;
    const { log } = this.options;
    if (thread.exitCode === 0) log.info({ thread: thread.index }, 'a stream thread finished; stopping the others');
    else log.error({ thread: thread.index, code: thread.exitCode }, 'a stream thread exited on an error; stopping the instance');
    void this.close();
  }

  private async stop(thread: StreamThread): Promise<void> {
    if (!thread.alive) return;
    thread.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.options.shutdownTimeoutMs + 5_000)));
    if ((await Promise.race([thread.exited.then(() => 'done' as const), late])) === 'late') {
      this.options.log.error({ thread: thread.index }, 'a stream thread did not stop in time; killing it');
      thread.child.kill('SIGKILL');
      await thread.exited;
    }
    clearTimeout(timer);
  }
}
