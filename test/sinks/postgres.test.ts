import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { LocalPostgres } from '../../engine/local/postgres/local-postgres.ts';

const CLI = path.resolve(import.meta.dirname, '..', '..', 'bin', 'sluice.js');

/** The mutation aggregator's table (docs/scenarios.md), upserted as the PostgreSQL sink will. */
const UPSERT = `
  INSERT INTO entities (entity_type, entity_id, version, attributes, deleted)
  VALUES ($1, $2, $3, $4, false)
  ON CONFLICT (entity_type, entity_id)
  DO UPDATE SET version = EXCLUDED.version, attributes = entities.attributes || EXCLUDED.attributes, deleted = EXCLUDED.deleted`;

describe('PostgreSQL at DATABASE_URL', () => {
  const schema = `sluice_test_${randomBytes(6).toString('hex')}`;
  let client: pg.Client;

  before(async () => {
    expect(process.env.DATABASE_URL, 'the root hook sets DATABASE_URL').to.be.a('string');
    client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`SET search_path TO ${schema}`);
    await client.query(`CREATE TABLE entities (
      entity_type text, entity_id text, version bigint, attributes jsonb, deleted boolean,
      PRIMARY KEY (entity_type, entity_id))`);
  });

  after(async () => {
    if (!client) return;
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('commits upserts in one transaction and leaves nothing of a rolled-back one', async () => {
    await client.query('BEGIN');
    await client.query(UPSERT, ['user', 'u1', 1, { name: 'Ada' }]);
    await client.query(UPSERT, ['user', 'u2', 1, { name: 'Bob' }]);
    await client.query(UPSERT, ['user', 'u1', 2, { email: 'ada@example.org' }]); // the conflict path
    await client.query('COMMIT');

    await client.query('BEGIN');
    await client.query(UPSERT, ['user', 'u3', 1, { name: 'Cy' }]);
    await client.query(UPSERT, ['user', 'u1', 3, { name: 'overwritten' }]);
    await client.query('ROLLBACK');

    const { rows } = await client.query('SELECT entity_type, entity_id, version, attributes, deleted FROM entities ORDER BY entity_id');
    expect(rows).to.deep.equal([
      { entity_type: 'user', entity_id: 'u1', version: '2', attributes: { name: 'Ada', email: 'ada@example.org' }, deleted: false },
      { entity_type: 'user', entity_id: 'u2', version: '1', attributes: { name: 'Bob' }, deleted: false },
    ]);
  });

  it('`sluice postgres status` says what the local cluster is doing (the one the tests use, unless DATABASE_URL names another)', async () => {
    const local = await new LocalPostgres().status();
    const status = spawnSync(process.execPath, [CLI, 'postgres', 'status'], { encoding: 'utf8', timeout: 60_000 });
    if (local.running) {
      expect(status.status, status.stderr).to.equal(0);
      expect(status.stdout).to.match(/^running at /);
      expect(status.stdout).to.contain(local.url);
    } else {
      expect(status.status).to.equal(3);
      expect(status.stdout).to.match(/^stopped/);
      expect(process.env.DATABASE_URL, 'with no local cluster, DATABASE_URL names another server').to.match(/^postgres/);
    }
  });
});
