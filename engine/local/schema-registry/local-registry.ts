import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MissingToolError } from '../../errors.ts';
import { SchemaRegistryError } from '../../serde/avro/registry.ts';
import { choosePort } from '../ports.ts';
import { tail } from '../run-program.ts';
import { LocalService, type LocalServiceOptions } from '../service.ts';

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
 * memory), built once from crates.io with the machine's cargo into `<home>/schema-registry`, run
 * on loopback. `start` is idempotent and safe from several processes; the server outlives the
 * command that started it until `stop`. Being in memory, a restart forgets every schema.
 *
 * @example
 * ```ts
 * const { url } = await new LocalSchemaRegistry().start();   // "http://127.0.0.1:8081"
 * ```
 */
export class LocalSchemaRegistry extends LocalService<RunningRegistry> {
  readonly version = VERSION;

  constructor(options: LocalServiceOptions = {}) {
    super(
      {
        folder: 'schema-registry',
        name: 'the local schema registry',
        stateFile: 'registry.json',
        logFile: 'registry.log',
        marker: CRATE,
        // The first start builds the server, which takes minutes.
        lockTimeoutMs: 1_200_000,
        stopTimeoutMs: 10_000,
        answerTimeoutMs: 5_000,
        error: (message) => new SchemaRegistryError(message),
      },
      options,
    );
  }

  private get binary(): string {
    return path.join(this.dir, 'install', 'bin', CRATE);
  }

  override async status(): Promise<RegistryStatus> {
    const status = await super.status();
    return status.running ? status : { running: false, version: VERSION };
  }

  protected override async answers(registry: RunningRegistry, timeoutMs: number): Promise<boolean> {
    try {
      return (await fetch(`${registry.url}/health/ready`, { signal: AbortSignal.timeout(timeoutMs) })).ok;
    } catch {
      return false; // Not listening (yet).
    }
  }

  /** Builds the server if needed, then starts it. */
  protected override async launch(): Promise<RunningRegistry> {
    if (!fs.existsSync(this.binary)) this.install();
    const port = await choosePort(8081);
    const registry = await this.launchDetached(
      this.binary,
      ['serve', '--host', HOST, '--port', String(port), '--compatibility', 'BACKWARD'],
      (pid) => ({ url: `http://${HOST}:${port}`, port, pid, version: VERSION }),
      READY_TIMEOUT_MS,
    );
    this.progress(`Schema registry (${CRATE} ${VERSION}) is ready at ${registry.url}.`);
    return registry;
  }

  /** `cargo install` from crates.io (a few minutes on two cores, once). */
  private install(): void {
    const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
    if (cargo.error || cargo.status !== 0) {
      throw new MissingToolError(
        'cargo',
        `Building the local schema registry (${CRATE} from crates.io) needs Rust's cargo, which was not found. Install Rust (https://rustup.rs), or point SCHEMA_REGISTRY_URL at a registry.`,
      );
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
      throw new SchemaRegistryError(`Building ${CRATE} ${VERSION} failed (exit ${result.status}):\n${tail(result.stderr ?? '', 20)}`);
    }
  }
}
