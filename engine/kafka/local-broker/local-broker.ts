import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { LocalBrokerError } from '../../errors.ts';
import { KafkaAdmin } from '../admin.ts';
import { jarsResolved, kafkaVersion, resolveJars, tail } from './maven.ts';
import { choosePort } from './ports.ts';
import { acquireLock, isProcessOf, sleep, stopProcess } from '../../local/process-control.ts';
import { requireJava } from './prerequisites.ts';
import { brokerProperties } from './properties.ts';

/** Where the broker listens and which process it is. */
export interface RunningBroker {
  address: string;
  host: string;
  port: number;
  controllerPort: number;
  pid: number;
  version: string;
}

export type BrokerStatus = ({ running: true } & RunningBroker) | { running: false; version: string };

export interface LocalBrokerOptions {
  /** The cache folder for jars, data and logs. Default: `SLUICE_HOME`, else `.sluice/` in the project. */
  home?: string;
  /** The port to try first; another free one is picked when it is busy. Default 9092. */
  preferredPort?: number;
  /** The JVM's maximum heap. Default `SLUICE_KAFKA_HEAP` or 512m. */
  heap?: string;
  /** Progress for people (one line each); results go elsewhere. */
  progress?: (line: string) => void;
}

const HOST = '127.0.0.1';
const HERE = import.meta.dirname;
const POM = path.join(HERE, 'pom.xml');
const LOG_CONFIG = path.join(HERE, 'log4j2.yaml');
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
/** What the broker's command line contains. */
const BROKER_MARKER = 'kafka.Kafka';

/** The project-local cache folder every Sluice command shares. */
export function defaultHome(): string {
  return process.env.SLUICE_HOME ?? path.resolve(HERE, '..', '..', '..', '.sluice');
}

/**
 * A single-node Apache Kafka broker (KRaft) for development, tests and the demo, resolved from
 * Maven Central and run on the machine's Java. `start` is idempotent and safe to call from
 * several processes at once; the broker outlives the process that started it until `stop`.
 *
 * @example
 * ```ts
 * const broker = new LocalBroker();
 * const { address } = await broker.start();   // "127.0.0.1:9092"
 * await broker.stop();
 * ```
 */
export class LocalBroker {
  readonly version = kafkaVersion(POM);
  private readonly dir: string;
  private readonly preferredPort: number;
  private readonly heap: string;
  private readonly progress: (line: string) => void;

  constructor(options: LocalBrokerOptions = {}) {
    this.dir = path.join(options.home ?? defaultHome(), 'kafka');
    this.preferredPort = options.preferredPort ?? 9092;
    this.heap = options.heap ?? process.env.SLUICE_KAFKA_HEAP ?? '512m';
    this.progress = options.progress ?? (() => {});
  }

  get logFile(): string {
    return path.join(this.dir, 'broker.log');
  }

  private get libDir(): string {
    return path.join(this.dir, 'lib');
  }
  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }
  private get stateFile(): string {
    return path.join(this.dir, 'broker.json');
  }
  private get portsFile(): string {
    return path.join(this.dir, 'ports.json');
  }

  /** Whether a broker started here runs, and where. */
  async status(): Promise<BrokerStatus> {
    const state = this.readState();
    if (!state || !isProcessOf(state.pid, BROKER_MARKER)) return { running: false, version: this.version };
    return { running: true, ...state };
  }

  /** Starts the broker unless it already runs; resolves once it answers metadata requests. */
  async start(): Promise<RunningBroker> {
    fs.mkdirSync(this.dir, { recursive: true });
    const release = await acquireLock(
      path.join(this.dir, 'start.lock'),
      (holder) => new LocalBrokerError(`Another process (pid ${holder}) has been starting the local broker for too long; remove ${path.join(this.dir, 'start.lock')} if it is stuck.`),
    );
    try {
      const current = this.readState();
      if (current && isProcessOf(current.pid, BROKER_MARKER)) {
        if (await answersMetadata(current.address, 15_000)) return current;
        this.progress(`The broker (pid ${current.pid}) does not answer; restarting it.`);
        await this.stopProcess(current.pid);
      }
      return await this.launch();
    } finally {
      release();
    }
  }

  /** Stops the broker cleanly (SIGTERM, then SIGKILL after 30 s). Returns whether it ran. */
  async stop(): Promise<boolean> {
    const state = this.readState();
    const running = state !== undefined && isProcessOf(state.pid, BROKER_MARKER);
    if (running) await this.stopProcess(state.pid);
    fs.rmSync(this.stateFile, { force: true });
    return running;
  }

  private async launch(): Promise<RunningBroker> {
    requireJava();
    if (!jarsResolved(POM, this.libDir)) {
      this.progress(`Resolving Apache Kafka ${this.version} from Maven Central (first start only)...`);
      await resolveJars(POM, this.libDir);
    }
    const layout = await this.choosePorts();
    const properties = path.join(this.dir, 'server.properties');
    fs.writeFileSync(properties, brokerProperties({ ...layout, host: HOST, dataDir: this.dataDir }));
    await this.formatStorage(properties);

    if (fs.existsSync(this.logFile)) fs.renameSync(this.logFile, this.logFile + '.1');
    const logFd = fs.openSync(this.logFile, 'a');
    this.progress(`Starting Kafka ${this.version} on ${HOST}:${layout.port}...`);
    const started = Date.now();
    const child = spawn('java', [...this.jvmArgs(), 'kafka.Kafka', properties], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    fs.closeSync(logFd);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.unref();
    if (child.pid === undefined) throw new LocalBrokerError('Could not start `java` for the local broker.');

    const broker: RunningBroker = {
      address: `${HOST}:${layout.port}`,
      host: HOST,
      port: layout.port,
      controllerPort: layout.controllerPort,
      pid: child.pid,
      version: this.version,
    };
    fs.writeFileSync(this.stateFile, JSON.stringify(broker, null, 2));

    const outcome = await Promise.race([
      waitForMetadata(broker.address, READY_TIMEOUT_MS).then((ok) => (ok ? 'ready' : 'timeout')),
      exited.then((code) => `exited with code ${code}`),
    ]);
    if (outcome !== 'ready') {
      await this.stopProcess(child.pid);
      fs.rmSync(this.stateFile, { force: true });
      throw new LocalBrokerError(
        `The local Kafka broker did not start (${outcome === 'timeout' ? `no answer within ${READY_TIMEOUT_MS / 1000} s` : outcome}). ` +
          `Its log (${this.logFile}) ends with:\n${this.logTail(30)}`,
      );
    }
    this.progress(`Kafka ${this.version} is ready at ${broker.address} (${((Date.now() - started) / 1000).toFixed(1)} s).`);
    return broker;
  }

  private jvmArgs(): string[] {
    return [
      `-Xms${this.heap}`,
      `-Xmx${this.heap}`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${LOG_CONFIG}`,
      '-cp',
      path.join(this.libDir, '*'),
    ];
  }

  /** The ports of the last run when they are still free (the data keeps its quorum), else new ones. */
  private async choosePorts(): Promise<{ port: number; controllerPort: number }> {
    let previous: { port?: number; controllerPort?: number } = {};
    try {
      previous = JSON.parse(fs.readFileSync(this.portsFile, 'utf8'));
    } catch {
      // First start.
    }
    const port = await choosePort(previous.port ?? this.preferredPort);
    const controllerPort = await choosePort(previous.controllerPort, [port]);
    if (previous.controllerPort !== undefined && controllerPort !== previous.controllerPort) {
      // The controller's address is part of the stored quorum; a new one needs fresh storage.
      fs.rmSync(this.dataDir, { recursive: true, force: true });
    }
    fs.writeFileSync(this.portsFile, JSON.stringify({ port, controllerPort }));
    return { port, controllerPort };
  }

  private async formatStorage(properties: string): Promise<void> {
    if (fs.existsSync(path.join(this.dataDir, 'meta.properties'))) return;
    fs.rmSync(this.dataDir, { recursive: true, force: true });
    const result = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn(
        'java',
        [...this.jvmArgs(), 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', properties],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let text = '';
      child.stdout.on('data', (chunk) => (text += chunk));
      child.stderr.on('data', (chunk) => (text += chunk));
      child.on('error', (err) => resolve({ code: -1, text: String(err) }));
      child.on('close', (code) => resolve({ code, text }));
    });
    if (result.code !== 0) {
      throw new LocalBrokerError(`Formatting the broker's storage failed (exit ${result.code}):\n${tail(result.text, 20)}`);
    }
  }

  private async stopProcess(pid: number): Promise<void> {
    await stopProcess(pid, BROKER_MARKER, STOP_TIMEOUT_MS, () =>
      this.progress(`The broker (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it.`),
    );
  }

  private readState(): RunningBroker | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as RunningBroker;
    } catch {
      return undefined;
    }
  }

  private logTail(lines: number): string {
    try {
      return tail(fs.readFileSync(this.logFile, 'utf8'), lines);
    } catch {
      return '(no log)';
    }
  }
}

/** A cluster id as Kafka writes them: 16 random bytes, URL-safe base64, never starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function waitForMetadata(address: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await acceptsConnections(address)) && (await answersMetadata(address, 5_000))) return true;
    await sleep(250);
  }
  return false;
}

function acceptsConnections(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function answersMetadata(address: string, timeoutMs: number): Promise<boolean> {
  const admin = KafkaAdmin.connect({ bootstrapServers: address, timeoutMs });
  try {
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    admin.disconnect();
  }
}
