import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { LocalPostgresError, MissingToolError } from '../../errors.ts';
import { defaultHome } from '../../kafka/local-broker/local-broker.ts';
import { choosePort } from '../../kafka/local-broker/ports.ts';
import { acquireLock, isAlive, isProcessOf, signal, sleep, waitForExit } from '../../local/process-control.ts';

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

export type PostgresStatus = ({ running: true } & RunningPostgres) | { running: false };

export interface LocalPostgresOptions {
  /** The cache folder; the cluster lives in its `postgres/`. Default: `SLUICE_HOME`, else `.sluice/`. */
  home?: string;
  /** The port to try first; another free one is picked when it is busy. Default 5433 (Debian's own cluster has 5432). */
  preferredPort?: number;
  /** Progress for people (one line each); results go elsewhere. */
  progress?: (line: string) => void;
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
const DATABASE = 'sluice';
/** The system user the server runs as when we are root (PostgreSQL refuses to run as root). */
const SYSTEM_USER = 'postgres';
/** What the postmaster's command line contains. */
const MARKER = 'postgres';
const START_TIMEOUT_S = 60;
const STOP_TIMEOUT_S = 30;
/** sun_path is 108 bytes on Linux, 104 on macOS: past this, the server listens on TCP only. */
const MAX_SOCKET_PATH = 100;

/** The server programs of one PostgreSQL installation. */
interface Binaries {
  dir: string;
  major: string;
}

/** Who runs the server programs: ourselves, or (as root) the `postgres` system user. */
interface Owner {
  /** Put before a command to run it as the owner; empty when that is us. */
  prefix: string[];
  /** Set only when we are root and files we make must change hands. */
  uid?: number;
  gid?: number;
}

/**
 * A private PostgreSQL cluster for development and tests, made with the machine's server
 * programs (Debian: `/usr/lib/postgresql/<major>/bin`, the highest major) in
 * `$SLUICE_HOME/postgres`: initialised once, trust authentication on loopback only, listening on
 * 127.0.0.1 (5433, or another free port) and on a socket inside the cluster folder, with a
 * database `sluice`. As root, the server runs as the `postgres` system user, which owns the data.
 * `start` is idempotent and safe from several processes; the server outlives the command that
 * started it until `stop`.
 *
 * @example
 * ```ts
 * const { url } = await new LocalPostgres().start();   // "postgres://postgres@127.0.0.1:5433/sluice"
 * ```
 */
export class LocalPostgres {
  private readonly dir: string;
  private readonly preferredPort: number;
  private readonly progress: (line: string) => void;

  constructor(options: LocalPostgresOptions = {}) {
    this.dir = path.join(options.home ?? defaultHome(), 'postgres');
    this.preferredPort = options.preferredPort ?? 5433;
    this.progress = options.progress ?? (() => {});
  }

  get logFile(): string {
    return path.join(this.dir, 'postgres.log');
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  private get socketDir(): string {
    return path.join(this.dir, 'run');
  }
  private get stateFile(): string {
    return path.join(this.dir, 'postgres.json');
  }

  /** Whether the cluster runs, and where (from its postmaster.pid). */
  async status(): Promise<PostgresStatus> {
    const postmaster = this.readPostmasterPid();
    if (!postmaster || !isProcessOf(postmaster.pid, MARKER)) return { running: false };
    return { running: true, ...this.describe(postmaster.port, postmaster.pid) };
  }

  /** Creates the cluster if needed and starts it unless it runs; resolves once `sluice` accepts connections. */
  async start(): Promise<RunningPostgres> {
    fs.mkdirSync(this.dir, { recursive: true });
    const lock = path.join(this.dir, 'start.lock');
    const release = await acquireLock(lock, (holder) => new LocalPostgresError(`Another process (pid ${holder}) has been starting the local PostgreSQL for too long; remove ${lock} if it is stuck.`), 180_000);
    try {
      const current = await this.status();
      if (current.running) {
        if (await answers(adminUrl(current.port), 10_000)) {
          await ensureDatabase(current.port);
          return current;
        }
        this.progress(`PostgreSQL (pid ${current.pid}) does not answer; restarting it.`);
        await this.stop();
      }
      return await this.launch();
    } finally {
      release();
    }
  }

  /** Stops the cluster (`pg_ctl stop -m fast`: open transactions roll back). Returns whether it ran. */
  async stop(): Promise<boolean> {
    const postmaster = this.readPostmasterPid();
    if (!postmaster || !isProcessOf(postmaster.pid, MARKER)) return false;
    const binaries = this.findBinaries(false);
    if (binaries) {
      const owner = this.owner();
      const result = await run([...owner.prefix, path.join(binaries.dir, 'pg_ctl'), 'stop', '-D', this.dataDir, '-m', 'fast', '-w', '-t', String(STOP_TIMEOUT_S), '-s']);
      if (result.code === 0) return true;
      this.progress(`pg_ctl stop failed (${result.text.trim() || `exit ${result.code}`}); stopping PostgreSQL (pid ${postmaster.pid}) immediately.`);
    }
    // SIGINT is a fast shutdown, SIGQUIT an immediate one.
    signal(postmaster.pid, 'SIGINT');
    if (!(await waitForExit(postmaster.pid, MARKER, STOP_TIMEOUT_S * 1000))) {
      signal(postmaster.pid, 'SIGQUIT');
      await waitForExit(postmaster.pid, MARKER, 5_000);
    }
    return true;
  }

  private async launch(): Promise<RunningPostgres> {
    const binaries = this.findBinaries(true);
    const owner = this.owner();
    await this.initialise(binaries, owner);

    const port = await choosePort(this.readState().port ?? this.preferredPort);
    fs.writeFileSync(this.stateFile, JSON.stringify({ port }, null, 2));
    this.writeConfig(port, owner);

    if (fs.existsSync(this.logFile)) fs.renameSync(this.logFile, this.logFile + '.1');
    fs.writeFileSync(this.logFile, '');
    chown(this.logFile, owner);

    this.progress(`Starting PostgreSQL ${binaries.major} on ${HOST}:${port}...`);
    const started = Date.now();
    const result = await run([...owner.prefix, path.join(binaries.dir, 'pg_ctl'), 'start', '-D', this.dataDir, '-l', this.logFile, '-w', '-t', String(START_TIMEOUT_S), '-s']);
    const postmaster = this.readPostmasterPid();
    if (result.code !== 0 || !postmaster) {
      // A server that answers was started by another process after all (the lock is advisory): use it.
      const now = await this.status();
      if (now.running && (await waitUntilAnswers(now.port, 15_000))) {
        await ensureDatabase(now.port);
        return now;
      }
      await this.stop();
      throw new LocalPostgresError(
        `PostgreSQL did not start (pg_ctl: ${result.text.trim() || `exit ${result.code}`}). Its log (${this.logFile}) ends with:\n${this.logTail(20)}`,
      );
    }
    await ensureDatabase(port);
    const running = this.describe(port, postmaster.pid);
    this.progress(`PostgreSQL ${running.version} is ready at ${running.url} (${((Date.now() - started) / 1000).toFixed(1)} s).`);
    return running;
  }

  /** `initdb` once, into a scratch folder renamed into place, so a half-made cluster is never used. */
  private async initialise(binaries: Binaries, owner: Owner): Promise<void> {
    if (fs.existsSync(path.join(this.dataDir, 'PG_VERSION'))) {
      if (owner.uid !== undefined && fs.statSync(this.dataDir).uid !== owner.uid) {
        await run(['chown', '-R', `${owner.uid}:${owner.gid}`, this.dataDir]);
      }
      return;
    }
    this.progress(`Creating a PostgreSQL ${binaries.major} cluster in ${this.dataDir} (first start only)...`);
    const scratch = `${this.dataDir}.init-${process.pid}`;
    for (const entry of fs.readdirSync(this.dir)) {
      const pid = /^data\.init-(\d+)$/.exec(entry)?.[1];
      if (pid && (Number(pid) === process.pid || !isAlive(Number(pid)))) fs.rmSync(path.join(this.dir, entry), { recursive: true, force: true });
    }
    fs.mkdirSync(scratch, { mode: 0o700 });
    chown(scratch, owner);
    if (owner.uid !== undefined) {
      // The server must reach its data through every parent folder.
      const access = await run([...owner.prefix, 'test', '-w', scratch]);
      if (access.code !== 0) {
        fs.rmSync(scratch, { recursive: true, force: true });
        throw new LocalPostgresError(
          `PostgreSQL runs as the '${SYSTEM_USER}' system user here (it refuses to run as root), and that user cannot reach ${this.dir}: ` +
            `a parent folder is not searchable by others. Set SLUICE_HOME to a folder it can reach, or give the parents o+x.`,
        );
      }
    }
    const result = await run([
      ...owner.prefix,
      path.join(binaries.dir, 'initdb'),
      '-D', scratch,
      '-U', SUPERUSER,
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    if (result.code !== 0) {
      fs.rmSync(scratch, { recursive: true, force: true });
      throw new LocalPostgresError(`initdb failed (exit ${result.code}):\n${result.text.trimEnd().split('\n').slice(-20).join('\n')}`);
    }
    // Trust on loopback only: no line for any other address, so everything else is refused.
    writeOwned(
      path.join(scratch, 'pg_hba.conf'),
      '# Written by Sluice: a development cluster, trusted on loopback only.\n' +
        '# TYPE  DATABASE  USER  ADDRESS       METHOD\n' +
        'local   all       all                 trust\n' +
        'host    all       all   127.0.0.1/32  trust\n' +
        'host    all       all   ::1/128       trust\n' +
        'local   replication all               trust\n' +
        'host    replication all 127.0.0.1/32  trust\n',
      owner,
    );
    fs.appendFileSync(path.join(scratch, 'postgresql.conf'), "\n# Sluice's settings (port, addresses), rewritten at every start.\ninclude_if_exists = 'sluice.conf'\n");
    try {
      fs.renameSync(scratch, this.dataDir);
    } catch (err) {
      // Another process made the cluster meanwhile: use that one.
      fs.rmSync(scratch, { recursive: true, force: true });
      if (!fs.existsSync(path.join(this.dataDir, 'PG_VERSION'))) throw err;
    }
  }

  /** The settings that may change between starts: the port and where the socket lives. */
  private writeConfig(port: number, owner: Owner): void {
    let socketDir = this.socketDir;
    if (path.join(socketDir, `.s.PGSQL.${port}`).length > MAX_SOCKET_PATH) {
      this.progress(`${socketDir} is too long a path for a Unix socket; PostgreSQL listens on TCP only.`);
      socketDir = '';
    } else {
      fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
      chown(socketDir, owner);
    }
    writeOwned(
      path.join(this.dataDir, 'sluice.conf'),
      [
        '# Written by Sluice at every start of the local cluster; edits are lost.',
        `listen_addresses = '${HOST}'`,
        `port = ${port}`,
        `unix_socket_directories = '${socketDir.replaceAll("'", "''")}'`,
        'unix_socket_permissions = 0700',
        "timezone = 'UTC'",
        '',
      ].join('\n'),
      owner,
    );
  }

  /**
   * The server programs: those of the major the cluster was made with when it exists, else the
   * highest installed; Debian's /usr/lib/postgresql/<major>/bin first, then the PATH.
   */
  private findBinaries(required: true): Binaries;
  private findBinaries(required: false): Binaries | undefined;
  private findBinaries(required: boolean): Binaries | undefined {
    const found = installedBinaries();
    let made: string | undefined;
    try {
      made = fs.readFileSync(path.join(this.dataDir, 'PG_VERSION'), 'utf8').trim();
    } catch {
      // No cluster yet.
    }
    const pick = made ? found.find((b) => b.major === made) : found[0];
    if (pick || !required) return pick;
    if (made && found.length > 0) {
      throw new LocalPostgresError(
        `The cluster in ${this.dataDir} was made by PostgreSQL ${made}, whose server programs are not installed (found ${found.map((b) => b.major).join(', ')}). ` +
          `Install postgresql-${made}, or remove ${this.dir} to make a new cluster.`,
      );
    }
    throw new MissingToolError(
      'postgres',
      "PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found in /usr/lib/postgresql/<major>/bin or on the PATH. " +
        'Install them (Debian/Ubuntu: `apt-get install postgresql`; `bash scripts/setup.sh` does it), or set DATABASE_URL to a PostgreSQL database to use instead.',
    );
  }

  /** Ourselves, unless we are root: then the `postgres` system user, through runuser or setpriv. */
  private owner(): Owner {
    if (process.getuid?.() !== 0) return { prefix: [] };
    const account = lookupUser(SYSTEM_USER);
    if (!account) {
      throw new LocalPostgresError(
        `PostgreSQL refuses to run as root, and there is no '${SYSTEM_USER}' system user to run it as. ` +
          `Create one (Debian's postgresql package does: apt-get install postgresql), run Sluice as another user, or set DATABASE_URL.`,
      );
    }
    const prefix = onPath('runuser')
      ? ['runuser', '-u', SYSTEM_USER, '--']
      : onPath('setpriv')
        ? ['setpriv', `--reuid=${account.uid}`, `--regid=${account.gid}`, '--init-groups', '--']
        : undefined;
    if (!prefix) {
      throw new LocalPostgresError(`PostgreSQL refuses to run as root, and neither runuser nor setpriv (util-linux) is installed to run it as '${SYSTEM_USER}'.`);
    }
    return { prefix, uid: account.uid, gid: account.gid };
  }

  private describe(port: number, pid: number): RunningPostgres {
    return { url: `postgres://${SUPERUSER}@${HOST}:${port}/${DATABASE}`, host: HOST, port, pid, version: this.version() };
  }

  /** The version of the programs that serve the cluster, e.g. `15.18`; the major alone if they are gone. */
  private version(): string {
    const binaries = this.findBinaries(false);
    if (!binaries) return readText(path.join(this.dataDir, 'PG_VERSION')) ?? 'unknown';
    const out = spawnSync(path.join(binaries.dir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout ?? '';
    return /\) (\d+(?:\.\d+)*)/.exec(out)?.[1] ?? binaries.major;
  }

  /** postmaster.pid: line 1 the pid, line 4 the port. */
  private readPostmasterPid(): { pid: number; port: number } | undefined {
    const lines = readText(path.join(this.dataDir, 'postmaster.pid'))?.split('\n');
    const pid = Number(lines?.[0]);
    const port = Number(lines?.[3]);
    return pid > 0 && port > 0 ? { pid, port } : undefined;
  }

  private readState(): { port?: number } {
    try {
      return JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as { port?: number };
    } catch {
      return {};
    }
  }

  private logTail(lines: number): string {
    return readText(this.logFile)?.trimEnd().split('\n').slice(-lines).join('\n') ?? '(no log)';
  }
}

/** Every installation with initdb, pg_ctl and postgres side by side, highest major first. */
function installedBinaries(): Binaries[] {
  const complete = (dir: string) => ['initdb', 'pg_ctl', 'postgres'].every((name) => fs.existsSync(path.join(dir, name)));
  const found: Binaries[] = [];
  const debian = '/usr/lib/postgresql';
  let majors: string[] = [];
  try {
    majors = fs.readdirSync(debian).sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  } catch {
    // Not Debian's layout.
  }
  for (const major of majors) {
    const dir = path.join(debian, major, 'bin');
    if (complete(dir)) found.push({ dir, major });
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || !complete(dir) || found.some((b) => b.dir === dir)) continue;
    const out = spawnSync(path.join(dir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout ?? '';
    const major = /\) (\d+)/.exec(out)?.[1];
    if (major) found.push({ dir, major });
  }
  return found;
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  const entry = spawnSync('getent', ['passwd', name], { encoding: 'utf8' }).stdout ?? readText('/etc/passwd') ?? '';
  const fields = entry.split('\n').find((line) => line.startsWith(`${name}:`))?.split(':');
  return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, program)));
}

function chown(file: string, owner: Owner): void {
  if (owner.uid !== undefined && owner.gid !== undefined) fs.chownSync(file, owner.uid, owner.gid);
}

function writeOwned(file: string, text: string, owner: Owner): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  chown(file, owner);
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Runs a program to its end; its output, both streams, for messages. */
function run(command: string[]): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve) => {
    const [program, ...args] = command;
    const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    child.on('error', (err) => resolve({ code: -1, text: String(err) }));
    child.on('close', (code) => resolve({ code, text }));
  });
}

function adminUrl(port: number): string {
  return `postgres://${SUPERUSER}@${HOST}:${port}/postgres`;
}

async function answers(url: string, timeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function waitUntilAnswers(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answers(adminUrl(port), 2_000)) return true;
    await sleep(100);
  }
  return false;
}

/** Creates the database `sluice` unless it exists. */
async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl(port), connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${DATABASE}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04' && err.code !== '23505') throw err; // Made by another process meanwhile.
      });
    }
  } catch (err) {
    throw new LocalPostgresError(`Could not create the database '${DATABASE}' on ${HOST}:${port}: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => {});
  }
}
