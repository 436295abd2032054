// Root hook: starts the services the loaded test files need (test/hooks/service-needs.cjs
// says which), and no others: a run of unit tests starts nothing. A service the environment
// names is used as it is: KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL (or `embedded`: the
// in-process registry) and DATABASE_URL. Otherwise the local development one is started, and
// stopped again at the end if this run started it (unless SLUICE_KEEP_BROKER is set).
import { createRequire } from 'node:module';
import path from 'node:path';
import { LocalBroker } from '../../engine/local/kafka/local-broker.ts';
import { LocalSchemaRegistry } from '../../engine/local/schema-registry/local-registry.ts';
import { LocalPostgres } from '../../engine/local/postgres/local-postgres.ts';
import type { LocalService, ServiceProcess } from '../../engine/local/service.ts';

type Service = 'kafka' | 'registry' | 'postgres';

const { servicesOf } = createRequire(import.meta.url)('./service-needs.cjs') as { servicesOf: (file: string) => Service[] };
const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Local services this run started, to stop at the end. */
const startedHere: Array<{ stop(): Promise<unknown> }> = [];

const progress = (name: string) => (line: string) => void process.stderr.write(`[${name}] ${line}\n`);

/**
 * Starts a local service (a no-op when it runs), names it in the environment for the tests, and
 * remembers it for stopping at the end unless it ran before or the user keeps it.
 */
async function startLocal<P extends ServiceProcess>(service: LocalService<P>, variable: string, address: (running: P) => string): Promise<void> {
  const wasRunning = (await service.status()).running;
  process.env[variable] = address(await service.start());
  if (!wasRunning && !process.env.SLUICE_KEEP_BROKER) startedHere.push(service);
}

const starters: Record<Service, () => Promise<void>> = {
  // The local schema registry (built from crates.io on first use), so Avro tests talk to a real server.
  registry: () => startLocal(new LocalSchemaRegistry({ progress: progress('registry') }), 'SCHEMA_REGISTRY_URL', (r) => r.url),
  // The local PostgreSQL cluster (the machine's server programs, a private cluster under .sluice/postgres).
  postgres: () => startLocal(new LocalPostgres({ progress: progress('postgres') }), 'DATABASE_URL', (r) => r.url),
  kafka: () => startLocal(new LocalBroker({ progress: progress('broker') }), 'KAFKA_BOOTSTRAP_SERVERS', (r) => r.address),
};

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
    for (const service of servicesToStart(loadedFiles(this.test!.parent!), named)) await starters[service]();
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    for (const service of startedHere.splice(0).reverse()) await service.stop();
  },
};
