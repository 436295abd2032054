import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { LocalBrokerError } from '../../errors.ts';
import { PACKAGE_ROOT } from '../../package-root.ts';
import { KafkaAdmin } from '../../kafka/admin.ts';
import { choosePort } from '../ports.ts';
import { runProgram, tail } from '../run-program.ts';
import { LocalService, type LocalServiceOptions } from '../service.ts';
import { jarsResolved, kafkaVersion, resolveJars } from './maven.ts';
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

export interface LocalBrokerOptions extends LocalServiceOptions {
  /** The port to try first; another free one is picked when it is busy. Default 9092. */
  preferredPort?: number;
  /** The JVM's maximum heap. Default `SLUICE_KAFKA_HEAP` or 512m. */
  heap?: string;
}

const HOST = '127.0.0.1';
// Read from the sources, also when the engine runs compiled.
const HERE = path.join(PACKAGE_ROOT, 'engine', 'local', 'kafka');
const POM = path.join(HERE, 'pom.xml');
const LOG_CONFIG = path.join(HERE, 'log4j2.yaml');
const READY_TIMEOUT_MS = 120_000;

/**
 * A single-node Apache Kafka broker (KRaft) for development, tests and the demo, resolved from
 * Maven Central and run on the machine's Java, in `<home>/kafka`. `start` is idempotent and
 * safe to call from several processes at once; the broker outlives the process that started it
 * until `stop`.
 *
 * @example
 * ```ts
 * const broker = new LocalBroker();
 * const { address } = await broker.start();   // "127.0.0.1:9092"
 * await broker.stop();
 * ```
 */
export class LocalBroker extends LocalService<RunningBroker> {
  readonly version = kafkaVersion(POM);
  private readonly preferredPort: number;
  private readonly heap: string;

  constructor(options: LocalBrokerOptions = {}) {
    super(
      {
        folder: 'kafka',
        name: 'the local Kafka broker',
        stateFile: 'broker.json',
        logFile: 'broker.log',
        marker: 'kafka.Kafka',
        lockTimeoutMs: 300_000,
        stopTimeoutMs: 30_000,
        answerTimeoutMs: 15_000,
        error: (message) => new LocalBrokerError(message),
      },
      options,
    );
    this.preferredPort = options.preferredPort ?? 9092;
    this.heap = options.heap ?? process.env.SLUICE_KAFKA_HEAP ?? '512m';
  }

  private get libDir(): string {
    return path.join(this.dir, 'lib');
  }
  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }
  private get portsFile(): string {
    return path.join(this.dir, 'ports.json');
  }

  /** Whether a broker started here runs, and where; the Kafka version either way. */
  override async status(): Promise<BrokerStatus> {
    const status = await super.status();
    return status.running ? status : { running: false, version: this.version };
  }

  protected override async answers(broker: RunningBroker, timeoutMs: number): Promise<boolean> {
    return (await acceptsConnections(broker.address)) && (await answersMetadata(broker.address, timeoutMs));
  }

  protected override async launch(): Promise<RunningBroker> {
    requireJava();
    if (!jarsResolved(POM, this.libDir)) {
      this.progress(`Resolving Apache Kafka ${this.version} from Maven Central (first start only)...`);
      await resolveJars(POM, this.libDir);
    }
    const layout = await this.choosePorts();
    const properties = path.join(this.dir, 'server.properties');
    fs.writeFileSync(properties, brokerProperties({ ...layout, host: HOST, dataDir: this.dataDir }));
    await this.formatStorage(properties);

    this.progress(`Starting Kafka ${this.version} on ${HOST}:${layout.port}...`);
    const started = Date.now();
    const broker = await this.launchDetached(
      'java',
      [...this.jvmArgs(), 'kafka.Kafka', properties],
      (pid) => ({ address: `${HOST}:${layout.port}`, host: HOST, port: layout.port, controllerPort: layout.controllerPort, pid, version: this.version }),
      READY_TIMEOUT_MS,
    );
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
    const result = await runProgram(['java', ...this.jvmArgs(), 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', properties]);
    if (result.code !== 0) {
      throw new LocalBrokerError(`Formatting the broker's storage failed (exit ${result.code}):\n${tail(result.text, 20)}`);
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
