import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import definition, { DEFAULT_SETTINGS, mutationAggregator, mutationTopics, type MutationTopics } from '../../topologies/mutation-aggregator.ts';
import { generateMutations, type GeneratedMutations } from '../../topologies/mutation-generator.ts';
import { ENTITIES_DDL } from '../../topologies/mutations.ts';
import { startApplication, text } from '../helpers/app.ts';
import { childInstances, Instance } from '../helpers/instances.ts';
import { createTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TERMINAL = new Set(['APPLIED', 'RESOLVED', 'REJECTED', 'FAILED']);

/**
 * A schema of its own per test, holding `entities` with an audit trigger: every row write is
 * logged with its version, so a batch written twice shows as an (entity, version) written twice.
 */
async function freshSchema(client: pg.Client): Promise<{ schema: string; url: string }> {
  const schema = `agg_${randomBytes(5).toString('hex')}`;
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`SET search_path TO ${schema}`);
  await client.query(ENTITIES_DDL);
  await client.query('CREATE TABLE entity_writes (entity_type text, entity_id text, version bigint)');
  await client.query(`CREATE FUNCTION log_entity_write() RETURNS trigger AS $$ BEGIN INSERT INTO entity_writes VALUES (NEW.entity_type, NEW.entity_id, NEW.version); RETURN NEW; END $$ LANGUAGE plpgsql`);
  await client.query('CREATE TRIGGER audit AFTER INSERT OR UPDATE ON entities FOR EACH ROW EXECUTE FUNCTION log_entity_write()');
  const url = new URL(process.env.DATABASE_URL!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { schema, url: url.toString() };
}

async function createTopics(topics: MutationTopics): Promise<void> {
  for (const topic of Object.values(topics)) await createTopic(topic, 3);
}

/** Reads `mutation-status` (committed) until every mutation has a terminal status and every duplicate its DUPLICATE. */
async function waitForStatuses(topic: string, generated: GeneratedMutations, timeoutMs: number) {
  const want = generated.expected.size + generated.duplicatesSent;
  const deadline = Date.now() + timeoutMs;
  let statuses: Array<{ mutation_id: string; status: string; reason?: string }> = [];
  while (Date.now() < deadline) {
    statuses = (await readAll(topic, 'read_committed')).map((r) => JSON.parse(text(r.value)!));
    if (statuses.length >= want) break;
    await sleep(1_000);
  }
  return statuses;
}

/** Every mutation has exactly the terminal status of the reference model, once; duplicates are DUPLICATE. */
function expectStatuses(statuses: Array<{ mutation_id: string; status: string }>, generated: GeneratedMutations): void {
  const terminal = new Map<string, string[]>();
  let duplicates = 0;
  for (const s of statuses) {
    if (s.status === 'DUPLICATE') duplicates++;
    else if (TERMINAL.has(s.status)) terminal.set(s.mutation_id, [...(terminal.get(s.mutation_id) ?? []), s.status]);
  }
  const wrong = [...generated.expected].filter(([id, status]) => terminal.get(id)?.length !== 1 || terminal.get(id)![0] !== status);
  expect(wrong.slice(0, 5).map(([id, status]) => `${id}: expected ${status}, got ${terminal.get(id)?.join(',') ?? 'nothing'}`), `${wrong.length} mutations`).to.deep.equal([]);
  expect(duplicates).to.equal(generated.duplicatesSent);
  expect(statuses.length).to.equal(generated.expected.size + generated.duplicatesSent);
}

/** `entities` equals the reference model, and no (entity, version) was written twice. */
async function expectEntities(client: pg.Client, generated: GeneratedMutations): Promise<void> {
  const { rows } = await client.query('SELECT entity_type, entity_id, version::int AS version, attributes, deleted FROM entities');
  const actual = new Map(rows.map((r) => [`${r.entity_type}:${r.entity_id}`, { version: r.version, attributes: r.attributes, deleted: r.deleted }]));
  expect(actual.size).to.equal(generated.entities.size);
  const wrong = [...generated.entities].filter(([key, row]) => JSON.stringify(sorted(actual.get(key))) !== JSON.stringify(sorted(row)));
  expect(wrong.slice(0, 3).map(([key, row]) => `${key}: expected ${JSON.stringify(row)}, got ${JSON.stringify(actual.get(key))}`), `${wrong.length} entities`).to.deep.equal([]);
  const twice = await client.query('SELECT entity_type, entity_id, version, count(*)::int AS n FROM entity_writes GROUP BY 1, 2, 3 HAVING count(*) > 1 LIMIT 5');
  expect(twice.rows, 'entity versions written more than once').to.deep.equal([]);
}

/** A row in one key order, for comparison as text. */
function sorted(row: { version: number; deleted: boolean; attributes: Record<string, unknown> } | undefined) {
  if (!row) return row;
  return { version: row.version, deleted: row.deleted, attributes: Object.fromEntries(Object.entries(row.attributes).sort(([a], [b]) => (a < b ? -1 : 1))) };
}

describe('topologies/mutation-aggregator.ts (real broker, real PostgreSQL)', function () {
  this.timeout(600_000);
  let client: pg.Client;
  const instances = childInstances();

  before(async () => {
    client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
  });
  after(async () => client?.end());

  it('50 edge nodes on 1,000 entities with duplicates, conflicts and dependencies: entities equal the reference model, and every mutation gets exactly one terminal status', async () => {
    const { url } = await freshSchema(client);
    const prefix = `${uniqueName('agg')}-`;
    const topics = mutationTopics(prefix);
    await createTopics(topics);
    const generated = generateMutations({ edgeNodes: 50, entities: 1_000, mutations: 20_000, duplicates: 0.05, stale: 0.15, dependent: 0.1, orphans: 5, seed: 3 });
    expect(generated.conflicts, 'conflicts in the workload').to.be.greaterThan(500);
    expect([...generated.expected.values()].filter((s) => s === 'REJECTED').length, 'rejections in the workload').to.be.greaterThan(10);
    await produceRecords(topics.input, generated.records);
    const app = await startApplication(
      { ...definition, topology: (builder) => mutationAggregator(builder, topics, { ...DEFAULT_SETTINGS, dependencyTimeoutMs: 3_000, databaseUrl: url }) },
      { applicationId: `${prefix}aggregator`, stateDir: tempStateDir() },
    );
    try {
      const statuses = await waitForStatuses(topics.statuses, generated, 240_000);
      expectStatuses(statuses, generated);
      await expectEntities(client, generated);
      const dead = await readAll(topics.deadLetter);
      expect(dead.map((r) => JSON.parse(text(r.value)!).mutation.id).sort()).to.deep.equal(['orphan0', 'orphan1', 'orphan2', 'orphan3', 'orphan4']);
    } finally {
      await app.close();
    }
  });

  it('kill -9 while batches are being applied, then a restart: no batch applied twice, none lost, one terminal status each', async () => {
    const { url } = await freshSchema(client);
    const prefix = `${uniqueName('aggkill')}-`;
    const topics = mutationTopics(prefix);
    await createTopics(topics);
    const generated = generateMutations({ edgeNodes: 50, entities: 1_000, mutations: 30_000, duplicates: 0.05, stale: 0.15, dependent: 0.1, orphans: 0, seed: 8 });
    const args = ['topologies/mutation-aggregator.ts', '--application-id', `${prefix}aggregator`, '--state-dir', tempStateDir()];
    const env = { MUTATION_TOPIC_PREFIX: prefix, DATABASE_URL: url, MUTATION_DEPENDENCY_TIMEOUT_MS: '3000' };
    const first = new Instance('aggregator-1', args, env);
    instances.push(first);
    await first.waitUntilRunning();
    await produceRecords(topics.input, generated.records);
    // Kill it once a good part of the batches is in the database and more are being written.
    for (;;) {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM entity_writes');
      if (rows[0].n > 3_000) break;
      await sleep(50);
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const written = (await client.query('SELECT count(*)::int AS n FROM entity_writes')).rows[0].n;
    const second = new Instance('aggregator-2', args, env);
    instances.push(second);
    const statuses = await waitForStatuses(topics.statuses, generated, 300_000);
    expectStatuses(statuses, generated);
    await expectEntities(client, generated);
    const total = (await client.query('SELECT count(*)::int AS n FROM entity_writes')).rows[0].n;
    expect(written, 'rows written before the kill, of all').to.be.lessThan(total);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).to.equal(0);
  });
});
