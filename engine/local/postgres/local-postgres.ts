import fs from 'node:fs';
import path from 'node:path';
import { LocalPostgresError } from '../../errors.ts';
import { isProcessOf, signal, waitForExit } from '../process-control.ts';
import { choosePort } from '../ports.ts';
import { runProgram } from '../run-program.ts';
import { LocalService, type LocalServiceOptions, type ServiceStatus } from '../service.ts';
import { initialiseCluster, writeClusterConfig, type ClusterFolders } from './cluster.ts';
import { answers, databaseUrl, ensureDatabase, HOST } from './connection.ts';
import { chown, findBinaries, readText, serverOwner, serverVersion } from './installation.ts';

/** Where the cluster listens and which process it is. */
export interface RunningPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/sluice`: use it as DATABASE_URL. */
  url: string;
  host: string;
  port: number;
  /** The postmaster's pid. */
  pid: number;
  /** The server's version, e.g. `15.18`. */
  version: string;
}

export type PostgresStatus = ServiceStatus<RunningPostgres>;

export interface LocalPostgresOptions extends LocalServiceOptions {
  /** The port to try first; another free one is picked when it is busy. Default 5433 (Debian's own cluster has 5432). */
  preferredPort?: number;
}

/** What the postmaster's command line contains. */
const MARKER = 'postgres';
const START_TIMEOUT_S = 60;
const STOP_TIMEOUT_S = 30;

/**
 * A private PostgreSQL cluster for development and tests, made with the machine's server
 * programs (Debian: `/usr/lib/postgresql/<major>/bin`, the highest major) in `<home>/postgres`:
 * initialised once, trust authentication on loopback only, listening on 127.0.0.1 (5433, or
 * another free port) and on a socket inside the cluster folder, with a database `sluice`. As
 * root, the server runs as the `postgres` system user, which owns the data. `start` is idempotent
 * and safe from several processes; the server outlives the command that started it until `stop`.
 * The server itself says what runs (its `postmaster.pid`); the state file keeps the last port.
 *
 * @example
 * ```ts
 * const { url } = await new LocalPostgres().start();   // "postgres://postgres@127.0.0.1:5433/sluice"
 * ```
 */
export class LocalPostgres extends LocalService<RunningPostgres> {
  private readonly preferredPort: number;

  constructor(options: LocalPostgresOptions = {}) {
    super(
      {
        folder: 'postgres',
        name: 'the local PostgreSQL',
        stateFile: 'postgres.json',
        logFile: 'postgres.log',
        marker: MARKER,
        lockTimeoutMs: 180_000,
        stopTimeoutMs: STOP_TIMEOUT_S * 1000,
        answerTimeoutMs: 10_000,
        error: (message) => new LocalPostgresError(message),
      },
      options,
    );
    this.preferredPort = options.preferredPort ?? 5433;
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  private get folders(): ClusterFolders {
    return { dir: this.dir, dataDir: this.dataDir, socketDir: path.join(this.dir, 'run') };
  }

  /** The cluster that runs, from its postmaster.pid (line 1 the pid, line 4 the port). */
  protected override findRunning(): RunningPostgres | undefined {
    const lines = readText(path.join(this.dataDir, 'postmaster.pid'))?.split('\n');
    const pid = Number(lines?.[0]);
    const port = Number(lines?.[3]);
    if (!(pid > 0 && port > 0) || !isProcessOf(pid, MARKER)) return undefined;
    return { url: databaseUrl(port), host: HOST, port, pid, version: this.version() };
  }

  protected override answers(running: RunningPostgres, timeoutMs: number): Promise<boolean> {
    return answers(running.port, timeoutMs);
  }

  protected override async reuse(running: RunningPostgres): Promise<RunningPostgres> {
    await ensureDatabase(running.port);
    return running;
  }

  /** `pg_ctl stop -m fast` (open transactions roll back); signals when that fails or the programs are gone. */
  protected override async halt(running: RunningPostgres): Promise<void> {
    const binaries = findBinaries(this.dataDir, false);
    if (binaries) {
      const owner = serverOwner();
      const result = await runProgram([...owner.prefix, path.join(binaries.dir, 'pg_ctl'), 'stop', '-D', this.dataDir, '-m', 'fast', '-w', '-t', String(STOP_TIMEOUT_S), '-s']);
      if (result.code === 0) return;
      this.progress(`pg_ctl stop failed (${result.text.trim() || `exit ${result.code}`}); stopping PostgreSQL (pid ${running.pid}) immediately.`);
    }
    // SIGINT is a fast shutdown, SIGQUIT an immediate one.
    signal(running.pid, 'SIGINT');
    if (!(await waitForExit(running.pid, MARKER, STOP_TIMEOUT_S * 1000))) {
      signal(running.pid, 'SIGQUIT');
      await waitForExit(running.pid, MARKER, 5_000);
    }
  }

  /** The state file keeps the last port, to be used again; nothing else is to forget. */
  protected override forget(): void {}

  /** Creates the cluster if needed and starts it; resolves once `sluice` accepts connections. */
  protected override async launch(): Promise<RunningPostgres> {
    const binaries = findBinaries(this.dataDir, true);
    const owner = serverOwner();
    await initialiseCluster(this.folders, binaries, owner, this.progress);

    const port = await choosePort(this.lastPort() ?? this.preferredPort);
    fs.writeFileSync(this.stateFile, JSON.stringify({ port }, null, 2));
    writeClusterConfig(this.folders, port, owner, this.progress);

    if (fs.existsSync(this.logFile)) fs.renameSync(this.logFile, `${this.logFile}.1`);
    fs.writeFileSync(this.logFile, '');
    chown(this.logFile, owner);

    this.progress(`Starting PostgreSQL ${binaries.major} on ${HOST}:${port}...`);
    const started = Date.now();
    const result = await runProgram([...owner.prefix, path.join(binaries.dir, 'pg_ctl'), 'start', '-D', this.dataDir, '-l', this.logFile, '-w', '-t', String(START_TIMEOUT_S), '-s']);
    const running = this.findRunning();
    if (result.code !== 0 || !running) {
      // A server that answers was started by another process after all (the lock is advisory): use it.
      if (running && (await this.waitUntilAnswers(running, 15_000))) return await this.reuse(running);
      if (running) await this.halt(running);
      throw new LocalPostgresError(
        `PostgreSQL did not start (pg_ctl: ${result.text.trim() || `exit ${result.code}`}). Its log (${this.logFile}) ends with:\n${this.logTail(20)}`,
      );
    }
    await ensureDatabase(port);
    this.progress(`PostgreSQL ${running.version} is ready at ${running.url} (${((Date.now() - started) / 1000).toFixed(1)} s).`);
    return running;
  }

  /** The version of the programs that serve the cluster, e.g. `15.18`; the major alone if they are gone. */
  private version(): string {
    const binaries = findBinaries(this.dataDir, false);
    return binaries ? serverVersion(binaries) : (readText(path.join(this.dataDir, 'PG_VERSION'))?.trim() ?? 'unknown');
  }

  private lastPort(): number | undefined {
    try {
      return (JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as { port?: number }).port;
    } catch {
      return undefined;
    }
  }
}
