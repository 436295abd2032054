// Root hook: every test talks to a real Kafka broker, a real schema registry and a real
// PostgreSQL. Unless KAFKA_BOOTSTRAP_SERVERS names one, the local development broker is started
// (and stopped again at the end if this run started it); likewise PostgreSQL and DATABASE_URL.
import { LocalBroker } from '../../engine/kafka/local-broker/local-broker.ts';
import { LocalSchemaRegistry } from '../../engine/serde/avro/local-registry.ts';
import { LocalPostgres } from '../../engine/sinks/postgres/local-postgres.ts';

let startedHere: LocalBroker | undefined;
let registryStartedHere: LocalSchemaRegistry | undefined;
let postgresStartedHere: LocalPostgres | undefined;

/**
 * Unless SCHEMA_REGISTRY_URL names one (or is `embedded`: the in-process registry), the local
 * schema registry is started too (built from crates.io on first use), so Avro tests that use the
 * environment's registry talk to a real server.
 */
async function startRegistry(): Promise<void> {
  if (process.env.SCHEMA_REGISTRY_URL === 'embedded') {
    delete process.env.SCHEMA_REGISTRY_URL;
    return;
  }
  if (process.env.SCHEMA_REGISTRY_URL) return;
  const registry = new LocalSchemaRegistry({ progress: (line) => process.stderr.write(`[registry] ${line}\n`) });
  const wasRunning = (await registry.status()).running;
  process.env.SCHEMA_REGISTRY_URL = (await registry.start()).url;
  if (!wasRunning && !process.env.SLUICE_KEEP_BROKER) registryStartedHere = registry;
}

/**
 * Unless DATABASE_URL names a database, the local PostgreSQL cluster is started (the machine's
 * server programs, a private cluster under .sluice/postgres) and DATABASE_URL points at it.
 */
async function startPostgres(): Promise<void> {
  if (process.env.DATABASE_URL) return;
  const postgres = new LocalPostgres({ progress: (line) => process.stderr.write(`[postgres] ${line}\n`) });
  const wasRunning = (await postgres.status()).running;
  process.env.DATABASE_URL = (await postgres.start()).url;
  if (!wasRunning && !process.env.SLUICE_KEEP_BROKER) postgresStartedHere = postgres;
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(1_200_000);
    await startRegistry();
    await startPostgres();
    if (process.env.KAFKA_BOOTSTRAP_SERVERS) return;
    const broker = new LocalBroker({ progress: (line) => process.stderr.write(`[broker] ${line}\n`) });
    const wasRunning = (await broker.status()).running;
    const { address } = await broker.start();
    process.env.KAFKA_BOOTSTRAP_SERVERS = address;
    if (!wasRunning && !process.env.SLUICE_KEEP_BROKER) startedHere = broker;
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await startedHere?.stop();
    await registryStartedHere?.stop();
    await postgresStartedHere?.stop();
  },
};
