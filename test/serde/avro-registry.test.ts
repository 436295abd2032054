import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { AvroSerde } from '../../engine/serde/avro/avro-serde.ts';
import { SchemaRegistry, SchemaRegistryError } from '../../engine/serde/avro/registry.ts';
import { SerdeError } from '../../engine/errors.ts';
import { uniqueName } from '../helpers/kafka.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
type RecordSchema = { type: 'record'; name: string; namespace: string; fields: Array<{ name: string; type: string; default?: string }> };
// A namespace of its own per run: the local registry (rivven-schema) adds no version to a subject
// when the schema is already registered under another subject, where Confluent's does.
const NAMESPACE = `sluice.test.run${Date.now().toString(36)}`;
const V1: RecordSchema = { type: 'record', name: 'Reading', namespace: NAMESPACE, fields: [{ name: 'sensor', type: 'string' }, { name: 'value', type: 'double' }] };
const V2: RecordSchema = { ...V1, fields: [...V1.fields, { name: 'unit', type: 'string', default: 'celsius' }] };
/** A field without a default: a v3 reader cannot read v2 records, so BACKWARD refuses it. */
const V3: RecordSchema = { ...V1, fields: [...V1.fields, { name: 'site', type: 'string' }] };

describe('Avro with a real schema registry (the test set-up starts one)', function () {
  this.timeout(60_000);
  let url: string;

  before(() => {
    url = process.env.SCHEMA_REGISTRY_URL ?? '';
    expect(url, 'SCHEMA_REGISTRY_URL is set by the test set-up').to.match(/^http:\/\//);
  });

  it('registers compatible versions, and refuses an incompatible one with the registry\'s reason', async () => {
    const registry = new SchemaRegistry({ url });
    const topic = uniqueName('readings');
    const v1 = new AvroSerde({ schema: V1, registry });
    await v1.prepare(topic);
    await new AvroSerde({ schema: V2, registry }).prepare(topic);
    const refused = await new AvroSerde({ schema: V3, registry }).prepare(topic).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(SchemaRegistryError);
    expect((refused as SchemaRegistryError).status).to.equal(409);
    expect((refused as Error).message).to.match(/site/);
    expect(await (await registry.client()).getAllVersions(`${topic}-value`)).to.have.length(2);
  });

  it('reads v1 records with v2 (defaults filled) and v2 records with v1, fetching writer schemas from the server', async () => {
    const topic = uniqueName('readings');
    const writers = new SchemaRegistry({ url });
    const v1 = new AvroSerde({ schema: V1, registry: writers });
    const v2 = new AvroSerde({ schema: V2, registry: writers });
    await v1.prepare(topic);
    await v2.prepare(topic);
    const old = v1.serialize({ sensor: 's-1', value: 21.5 }, topic)!;
    const newer = v2.serialize({ sensor: 's-2', value: 19, unit: 'kelvin' }, topic)!;
    // A fresh client knows no schema: each read fetches the writer's from the registry first.
    const readers = new SchemaRegistry({ url });
    const readV2 = new AvroSerde<Record<string, unknown>>({ schema: V2, registry: readers });
    await readV2.prefetch(old);
    expect({ ...readV2.deserialize(old, topic) }).to.deep.equal({ sensor: 's-1', value: 21.5, unit: 'celsius' });
    const readV1 = new AvroSerde<Record<string, unknown>>({ schema: V1, registry: readers });
    await readV1.prefetch(newer);
    expect({ ...readV1.deserialize(newer, topic) }).to.deep.equal({ sensor: 's-2', value: 19 });
    const unknown = Buffer.from([0, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]);
    await readV1.prefetch(unknown);
    expect(() => readV1.deserialize(unknown, topic)).to.throw(SerdeError, /does not give/);
  });

  it('`sluice schemas register` prints each compatibility result and exits 1 when the registry refuses one', () => {
    const subject = `${uniqueName('things')}-value`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-schemas-'));
    const write = (schema: object) => {
      fs.writeFileSync(path.join(dir, 'reading.avsc'), JSON.stringify(schema));
      fs.writeFileSync(path.join(dir, 'subjects.json'), JSON.stringify({ [subject]: 'reading.avsc' }));
    };
    const register = () => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'sluice.js'), 'schemas', 'register', '--dir', dir, '--registry-url', url], { cwd: ROOT, encoding: 'utf8' });
    write(V1);
    expect(register().stdout).to.match(new RegExp(`^${subject} \\(reading\\.avsc\\): new, id \\d+$`, 'm'));
    write(V2);
    expect(register().stdout).to.match(new RegExp(`^${subject} \\(reading\\.avsc\\): compatible, id \\d+$`, 'm'));
    write(V3);
    const refused = register();
    expect(refused.status).to.equal(1);
    expect(refused.stdout).to.match(new RegExp(`^${subject} \\(reading\\.avsc\\): INCOMPATIBLE: .*site`, 'm'));
  });
});
