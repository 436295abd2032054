// Root hook: starts the services the loaded test files need (test/hooks/service-needs.cjs
// says which), and no others: a run of unit tests starts nothing. A service the environment
// names is used as it is: KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL (or `embedded`: the
// in-process registry) and DATABASE_URL. Otherwise the local development one is started, and
// stopped again at the end if this run started it (unless SLUICE_KEEP_BROKER is set).
import { createRequire } from 'node:module';
import path from 'node:path';
import { LocalBroker } from '../../engine/kafka/local-broker/local-broker.ts';
import { LocalSchemaRegistry } from '../../engine/serde/avro/local-registry.ts';
import { LocalPostgres } from '../../engine/sinks/postgres/local-postgres.ts';

type Service = 'kafka' | 'registry' | 'postgres';

const { servicesOf } = createRequire(import.meta.url)('./service-needs.cjs') as { servicesOf: (file: string) => Service[] };
const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** A local service this run started, to stop at the end. */
interface Stoppable {
  stop(): Promise<unknown>;
}
const startedHere: Stoppable[] = [];

/** Remembers `service` for stopping at the end, unless it ran before or the user keeps it. */
function stopAtEnd(service: Stoppable, wasRunning: boolean): void {
  if (!wasRunning && !process.env.SLUICE_KEEP_BROKER) startedHere.push(service);
}

const progress = (name: string) => (line: string) => void process.stderr.write(`[${name}] ${line}\n`);

/** The local schema registry (built from crates.io on first use), so Avro tests talk to a real server. */
async function startRegistry(): Promise<void> {
  const registry = new LocalSchemaRegistry({ progress: progress('registry') });
  const wasRunning = (await registry.status()).running;
  process.env.SCHEMA_REGISTRY_URL = (await registry.start()).url;
  stopAtEnd(registry, wasRunning);
}

/** The local PostgreSQL cluster (the machine's server programs, a private cluster under .sluice/postgres). */
async function startPostgres(): Promise<void> {
  const postgres = new LocalPostgres({ progress: progress('postgres') });
  const wasRunning = (await postgres.status()).running;
  process.env.DATABASE_URL = (await postgres.start()).url;
  stopAtEnd(postgres, wasRunning);
}

async function startBroker(): Promise<void> {
  const broker = new LocalBroker({ progress: progress('broker') });
  const wasRunning = (await broker.status()).running;
  process.env.KAFKA_BOOTSTRAP_SERVERS = (await broker.start()).address;
  stopAtEnd(broker, wasRunning);
}

/** The spec files mocha loaded (relative to the repository root), whether or not `--grep` selects their tests. */
function loadedFiles(suite: Mocha.Suite, files = new Set<string>()): Set<string> {
  for (const runnable of [suite, ...suite.tests]) if (runnable.file) files.add(path.relative(ROOT, runnable.file));
  for (const child of suite.suites) loadedFiles(child, files);
  return files;
}

/** The services the loaded files need, less those the environment names. */
export function servicesToStart(files: Iterable<string>, named: Record<Service, boolean>): Service[] {
  const needed = new Set<Service>();
  for (const file of files) for (const service of servicesOf(file)) needed.add(service);
  return (['registry', 'postgres', 'kafka'] as const).filter((s) => needed.has(s) && !named[s]);
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(1_200_000);
    // `embedded`: the in-process registry, which is what an unset SCHEMA_REGISTRY_URL gives the serdes.
    const embedded = process.env.SCHEMA_REGISTRY_URL === 'embedded';
    if (embedded) delete process.env.SCHEMA_REGISTRY_URL;
    const named = {
      kafka: Boolean(process.env.KAFKA_BOOTSTRAP_SERVERS),
      registry: embedded || Boolean(process.env.SCHEMA_REGISTRY_URL),
      postgres: Boolean(process.env.DATABASE_URL),
    };
    const start: Record<Service, () => Promise<void>> = { registry: startRegistry, postgres: startPostgres, kafka: startBroker };
    for (const service of servicesToStart(loadedFiles(this.test!.parent!), named)) await start[service]();
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    for (const service of startedHere.splice(0).reverse()) await service.stop();
  },
};
