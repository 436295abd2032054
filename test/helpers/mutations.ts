import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import type { GeneratedMutations } from '../../topologies/lib/mutation-generator.ts';
import { ENTITIES_DDL } from '../../topologies/lib/mutations.ts';

export const TERMINAL = new Set(['APPLIED', 'RESOLVED', 'REJECTED', 'FAILED']);

/**
 * A schema of its own per test, holding `entities` with an audit trigger: every row write is
 * logged with its version, so a batch written twice shows as an (entity, version) written twice.
 */
export async function freshSchema(client: pg.Client): Promise<{ schema: string; url: string }> {
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

/** Every mutation has exactly the terminal status of the reference model, once; duplicates are DUPLICATE. */
export function expectStatuses(statuses: Array<{ mutation_id: string; status: string }>, generated: GeneratedMutations): void {
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
export async function expectEntities(client: pg.Client, generated: GeneratedMutations): Promise<void> {
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

/** A PostgreSQL client (DATABASE_URL) connected for the enclosing `describe`'s tests; call it there. */
export function connectedClient(): () => pg.Client {
  let client: pg.Client | undefined;
  before(async () => {
    client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
  });
  after(async () => client?.end());
  return () => client!;
}
