import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MissingToolError } from '../../errors.ts';
import { defaultHome } from '../../kafka/local-broker/local-broker.ts';
import { choosePort } from '../../kafka/local-broker/ports.ts';
import { acquireLock, isProcessOf, sleep, stopProcess } from '../../local/process-control.ts';
import { SchemaRegistryError } from './registry.ts';

/** The Confluent-compatible registry server run locally: a Rust crate from crates.io. */
const CRATE = 'rivven-schema';
const VERSION = '0.0.22';
const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;

export interface RunningRegistry {
  url: string;
  port: number;
  pid: number;
  version: string;
}

export type RegistryStatus = ({ running: true } & RunningRegistry) | { running: false; version: string };

/**
 * A schema registry for development and tests: rivven-schema (Confluent's REST API, schemas in
 * memory), built once from crates.io with the machine's cargo into `.sluice/schema-registry`,
 * run on loopback. `start` is idempotent and safe from several processes; the server outlives
 * the command that started it until `stop`. Being in memory, a restart forgets every schema.
 */
export class LocalSchemaRegistry {
  readonly version = VERSION;
  private readonly dir: string;
  private readonly progress: (line: string) => void;

  constructor(options: { home?: string; progress?: (line: string) => void } = {}) {
    this.dir = path.join(options.home ?? defaultHome(), 'schema-registry');
    this.progress = options.progress ?? (() => {});
  }

  get logFile(): string {
    return path.join(this.dir, 'registry.log');
  }

  private get binary(): string {
    return path.join(this.dir, 'install', 'bin', CRATE);
  }

  private get stateFile(): string {
    return path.join(this.dir, 'registry.json');
  }

  async status(): Promise<RegistryStatus> {
    const state = this.readState();
    if (!state || !isProcessOf(state.pid, CRATE)) return { running: false, version: VERSION };
    return { running: true, ...state };
  }

  /** Builds the server if needed, starts it unless it runs, and resolves once it is ready. */
  async start(): Promise<RunningRegistry> {
    fs.mkdirSync(this.dir, { recursive: true });
    const lock = path.join(this.dir, 'start.lock');
    const release = await acquireLock(lock, (holder) => new SchemaRegistryError(`Another process (pid ${holder}) has been starting the local schema registry for too long; remove ${lock} if it is stuck.`), 1_200_000);
    try {
      const current = this.readState();
      if (current && isProcessOf(current.pid, CRATE)) {
        if (await ready(current.url, 5_000)) return current;
        await stopProcess(current.pid, CRATE, 10_000);
      }
      if (!fs.existsSync(this.binary)) this.install();
      return await this.launch();
    } finally {
      release();
    }
  }

  async stop(): Promise<boolean> {
    const state = this.readState();
    const running = state !== undefined && isProcessOf(state.pid, CRATE);
    if (running) await stopProcess(state.pid, CRATE, 10_000);
    fs.rmSync(this.stateFile, { force: true });
    return running;
  }

  /** `cargo install` from crates.io (a few minutes on two cores, once). */
  private install(): void {
    const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
    if (cargo.error || cargo.status !== 0) {
      throw new MissingToolError('cargo', `Building the local schema registry (${CRATE} from crates.io) needs Rust's cargo, which was not found. Install Rust (https://rustup.rs), or point SCHEMA_REGISTRY_URL at a registry.`);
    }
    this.progress(`Building ${CRATE} ${VERSION} from crates.io (first start only; a few minutes)...`);
    const build = path.join(this.dir, 'build');
    const result = spawnSync('cargo', ['install', CRATE, '--version', VERSION, '--locked', '--debug', '--root', path.join(this.dir, 'install')], {
      env: { ...process.env, CARGO_TARGET_DIR: build },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    fs.rmSync(build, { recursive: true, force: true });
    if (result.status !== 0 || !fs.existsSync(this.binary)) {
      throw new SchemaRegistryError(`Building ${CRATE} ${VERSION} failed (exit ${result.status}):\n${(result.stderr ?? '').split('\n').slice(-20).join('\n')}`);
    }
  }

  private async launch(): Promise<RunningRegistry> {
    const port = await choosePort(8081);
    const logFd = fs.openSync(this.logFile, 'w');
    const child = spawn(this.binary, ['serve', '--host', HOST, '--port', String(port), '--compatibility', 'BACKWARD'], { detached: true, stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    child.unref();
    if (child.pid === undefined) throw new SchemaRegistryError(`Could not start ${this.binary}.`);
    const running: RunningRegistry = { url: `http://${HOST}:${port}`, port, pid: child.pid, version: VERSION };
    fs.writeFileSync(this.stateFile, JSON.stringify(running, null, 2));
    if (!(await ready(running.url, READY_TIMEOUT_MS))) {
      await stopProcess(child.pid, CRATE, 5_000);
      fs.rmSync(this.stateFile, { force: true });
      throw new SchemaRegistryError(`The local schema registry did not become ready within ${READY_TIMEOUT_MS / 1000} s; see ${this.logFile}.`);
    }
    this.progress(`Schema registry (${CRATE} ${VERSION}) is ready at ${running.url}.`);
    return running;
  }

  private readState(): RunningRegistry | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as RunningRegistry;
    } catch {
      return undefined;
    }
  }
}

async function ready(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) })).ok) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  return false;
}
