import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { DeadLetterHeaders } from '../../engine/runtime/record-errors.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { APPLICATION_NAME } from '../../engine/sinks/postgres/pools.ts';
import { toPostgres, type PostgresTransaction } from '../../engine/sinks/postgres/postgres-sink.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { bootstrapServers, createTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A batch of rows to upsert, as the sink's input carries it. */
interface Rows {
  rows: Array<{ id: string; n: number }>;
}

/** Upserts the batch's rows into `table`, all in the sink's transaction. */
const upsertInto = (table: string) => async (tx: PostgresTransaction, _key: string, batch: Rows) => {
  for (const row of batch.rows) {
    await tx.query(`INSERT INTO ${table} (id, n) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET n = EXCLUDED.n, writes = ${table}.writes + 1`, [row.id, row.n]);
  }
};

/** Superuser-side control of the test database: refuse new connections and drop Sluice's, like an outage. */
async function setConnectionsAllowed(admin: pg.Client, database: string, allowed: boolean): Promise<void> {
  await admin.query(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS ${allowed}`);
  if (!allowed) await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [database, APPLICATION_NAME]);
}

describe('toPostgres: the transactional PostgreSQL sink (real broker, real PostgreSQL)', function () {
  this.timeout(180_000);
  const schema = `sink_test_${randomBytes(5).toString('hex')}`;
  let client: pg.Client;
  let connectionString: string;
  let kafkaAdmin: KafkaAdmin;

  before(async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    connectionString = url.toString();
    client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    kafkaAdmin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
  });

  after(async () => {
    kafkaAdmin.disconnect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  async function table(name: string): Promise<string> {
    await client.query(`CREATE TABLE ${schema}.${name} (id text PRIMARY KEY, n integer NOT NULL CHECK (n >= 0), writes integer NOT NULL DEFAULT 1)`);
    return `${schema}.${name}`;
  }

  function sinkApp(input: string, output: string, dlq: string, target: string, guarantee: 'at_least_once' | 'exactly_once') {
    return defineApplication({
      applicationId: 'pg-sink',
      guarantee,
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (builder) => {
        const { applied, failed } = builder
          .stream<string, Rows>(input)
          .sink(toPostgres({ connectionString, write: upsertInto(target), offsetsTable: `${schema}.positions` }), { name: 'rows', onError: { deadLetterTopic: dlq } });
        applied.mapValues((batch) => ({ status: 'APPLIED', rows: batch.rows.length })).to(output);
        failed.mapValues((f) => ({ status: 'FAILED', error: f.error })).to(output);
      },
    });
  }

  it('writes each record in one transaction with its position, passes on what it wrote, and sends what fails for good to the dead-letter topic', async () => {
    const prefix = uniqueName('pg-sink');
    const [input, output, dlq] = [`${prefix}-in`, `${prefix}-out`, `${prefix}-dlq`];
    for (const t of [input, output, dlq]) await createTopic(t, 3);
    const target = await table('rows_a');
    const app = await startApplication(sinkApp(input, output, dlq, target, 'exactly_once'));
    try {
      const batches = Array.from({ length: 60 }, (_, b) => ({ key: `k${b % 7}`, value: JSON.stringify({ rows: Array.from({ length: 5 }, (_, r) => ({ id: `r${b}-${r}`, n: b })) }) }));
      // A batch with one bad row (the CHECK refuses n < 0): the whole batch must roll back.
      const poison = JSON.stringify({ rows: [{ id: 'bad-1', n: 1 }, { id: 'bad-2', n: -1 }] });
      batches.splice(30, 0, { key: 'k3', value: poison });
      await produceRecords(input, batches);

      const statuses = await waitForRecords(output, 61, 60_000);
      const parsed = statuses.map((r) => JSON.parse(text(r.value)!));
      expect(parsed.filter((s) => s.status === 'APPLIED')).to.have.length(60);
      expect(parsed.filter((s) => s.status === 'FAILED')).to.have.length(1);
      expect(parsed.find((s) => s.status === 'FAILED').error).to.match(/check constraint/);

      const { rows } = await client.query(`SELECT count(*)::int AS rows, max(writes) AS most FROM ${target}`);
      expect(rows[0]).to.deep.equal({ rows: 300, most: 1 });
      expect((await client.query(`SELECT count(*)::int AS n FROM ${target} WHERE id LIKE 'bad-%'`)).rows[0].n).to.equal(0);

      const dead = await waitForRecords(dlq, 1);
      expect(text(dead[0]!.value)).to.equal(poison);
      const header = (name: string) => text(dead[0]!.headers?.find((h) => h[name] !== undefined)?.[name] as Buffer);
      expect(header(DeadLetterHeaders.operator)).to.equal('rows');
      expect(header(DeadLetterHeaders.errorMessage)).to.match(/check constraint/);

      // The positions table: every partition's next offset is its end.
      const positions = await client.query(`SELECT partition, next_offset::int AS next FROM ${schema}.positions WHERE topic = $1 ORDER BY partition`, [input]);
      const perPartition = new Map<number, number>();
      for (const r of await readAll(input)) perPartition.set(r.partition, Math.max(perPartition.get(r.partition) ?? 0, r.offset + 1));
      expect(positions.rows.map((r) => [r.partition, r.next])).to.deep.equal([...perPartition].sort((a, b) => a[0] - b[0]));
      expect((await client.query(`SELECT count(*)::int AS n FROM ${schema}.positions_failed WHERE topic = $1`, [input])).rows[0].n).to.equal(1);
    } finally {
      await app.close();
    }
  });

  it('never writes a record twice when it is processed again: a new instance replays from the committed offsets', async () => {
    const prefix = uniqueName('pg-sink-replay');
    const [input, output, dlq] = [`${prefix}-in`, `${prefix}-out`, `${prefix}-dlq`];
    for (const t of [input, output, dlq]) await createTopic(t, 2);
    const target = await table('rows_b');
    await produceRecords(input, Array.from({ length: 40 }, (_, b) => ({ key: `k${b}`, value: JSON.stringify({ rows: [{ id: `r${b}`, n: b }] }) })));
    const definition = sinkApp(input, output, dlq, target, 'at_least_once');
    const applicationId = uniqueName('pg-sink-replay');
    const first = await startApplication(definition, { applicationId });
    await waitForRecords(output, 40);
    await first.close();
    // Forget the group's offsets: the next instance reads everything again, as after a crash
    // between the database commit and the offset commit.
    const second = await startApplication(definition, { applicationId: `${applicationId}-again` });
    try {
      await waitForRecords(output, 80);
      const { rows } = await client.query(`SELECT count(*)::int AS rows, max(writes) AS most FROM ${target}`);
      expect(rows[0]).to.deep.equal({ rows: 40, most: 1 });
    } finally {
      await second.close();
    }
  });

  it('goes on processing while a write is slow, and commits its input only as far as its writes finished', async () => {
    const prefix = uniqueName('pg-sink-slow');
    const [input, output, dlq, other, otherOut] = [`${prefix}-in`, `${prefix}-out`, `${prefix}-dlq`, `${prefix}-other`, `${prefix}-other-out`];
    for (const t of [input, output, dlq, other, otherOut]) await createTopic(t, 1);
    const target = await table('rows_slow');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const write = upsertInto(target);
    const applicationId = uniqueName('pg-sink-slow');
    const app = await startApplication(
      defineApplication({
        applicationId: 'pg-sink-slow',
        guarantee: 'exactly_once',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        topology: (builder) => {
          const rows = toPostgres<string, Rows>({
            connectionString,
            offsetsTable: `${schema}.positions`,
            write: async (tx, key, batch) => {
              if (batch.rows.some((r) => r.id === 'slow')) await gate;
              await write(tx, key, batch);
            },
          });
          const { applied } = builder.stream<string, Rows>(input).sink(rows, { name: 'rows' });
          applied.mapValues((batch) => ({ status: 'APPLIED', id: batch.rows[0]!.id })).to(output);
          builder.stream<string, Rows>(other).mapValues((batch) => ({ seen: batch.rows[0]!.id })).to(otherOut);
        },
      }),
      { applicationId },
    );
    const rows = (ids: string[]) => ids.map((id) => ({ key: id, value: JSON.stringify({ rows: [{ id, n: 1 }] }) }));
    const committed = async () => (await kafkaAdmin.groupOffsets(applicationId)).find((o) => o.topic === input)?.offset;
    try {
      // Offsets 0-4 write at once, 5 waits at the gate, 6-9 queue behind it (writes keep offset order).
      await produceRecords(input, rows(['r0', 'r1', 'r2', 'r3', 'r4', 'slow', 'r6', 'r7', 'r8', 'r9']));
      const before = await waitForRecords(output, 5);
      expect(before.map((r) => JSON.parse(text(r.value)!).id)).to.deep.equal(['r0', 'r1', 'r2', 'r3', 'r4']);
      const deadline = Date.now() + 30_000;
      while ((await committed()) !== 5 && Date.now() < deadline) await sleep(200);
      expect(await committed(), 'the input is committed up to the record being written').to.equal(5);

      // Commits go on meanwhile: records of another sub-topology pass (exactly-once: only once committed).
      await produceRecords(other, rows(['o1', 'o2']));
      expect((await waitForRecords(otherOut, 2)).map((r) => JSON.parse(text(r.value)!).seen)).to.deep.equal(['o1', 'o2']);
      await sleep(500);
      expect(await readAll(output), 'nothing after the slow write is passed on before it').to.have.length(5);
      expect(await committed()).to.equal(5);

      release();
      const after = await waitForRecords(output, 10);
      expect(after.map((r) => JSON.parse(text(r.value)!).id)).to.deep.equal(['r0', 'r1', 'r2', 'r3', 'r4', 'slow', 'r6', 'r7', 'r8', 'r9']);
      while ((await committed()) !== 10 && Date.now() < deadline + 30_000) await sleep(200);
      expect(await committed()).to.equal(10);
      const written = await client.query(`SELECT count(*)::int AS rows, max(writes) AS most FROM ${target}`);
      expect(written.rows[0]).to.deep.equal({ rows: 10, most: 1 });
    } finally {
      release();
      await app.close();
    }
  });

  it('pauses while the database is away and resumes when it is back, losing nothing and holding memory bounded', async function () {
    this.timeout(240_000);
    const database = new URL(process.env.DATABASE_URL!).pathname.slice(1);
    const adminUrl = new URL(process.env.DATABASE_URL!);
    adminUrl.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    const prefix = uniqueName('pg-sink-outage');
    const [input, output, dlq] = [`${prefix}-in`, `${prefix}-out`, `${prefix}-dlq`];
    for (const t of [input, output, dlq]) await createTopic(t, 3);
    const target = await table('rows_c');
    const app = await startApplication(sinkApp(input, output, dlq, target, 'exactly_once'));
    const batch = (b: number) => ({ key: `k${b % 11}`, value: JSON.stringify({ rows: Array.from({ length: 10 }, (_, r) => ({ id: `r${b}-${r}`, n: b })) }) });
    try {
      await produceRecords(input, Array.from({ length: 100 }, (_, b) => batch(b)));
      await waitForRecords(output, 100);
      await setConnectionsAllowed(admin, database, false);
      const downAt = Date.now();
      // 2,000 more batches arrive while the database is away for 30 s.
      await produceRecords(input, Array.from({ length: 2_000 }, (_, b) => batch(100 + b)));
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      while (Date.now() - downAt < 30_000) {
        await sleep(500);
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }
      const duringOutage = (await readAll(output)).length;
      await setConnectionsAllowed(admin, database, true);
      const statuses = await waitForRecords(output, 2_100, 120_000);

      expect(duringOutage, 'nothing was passed on while the database was away').to.equal(100);
      expect(app.progress.externalPauses, 'the loop paused').to.be.greaterThan(0);
      expect(rssPeak - rssBefore, 'memory while paused').to.be.lessThan(100 * 1024 * 1024);
      expect(statuses.map((r) => JSON.parse(text(r.value)!).status).filter((s) => s !== 'APPLIED')).to.deep.equal([]);
      expect(statuses).to.have.length(2_100);
      const { rows } = await client.query(`SELECT count(*)::int AS rows, max(writes) AS most FROM ${target}`);
      expect(rows[0]).to.deep.equal({ rows: 21_000, most: 1 });
    } finally {
      await setConnectionsAllowed(admin, database, true).catch(() => undefined);
      await admin.end();
      await app.close();
    }
  });
});
