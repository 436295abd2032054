import { expect } from 'chai';
import { AvroDeserializer, AvroSerializer, SerdeType } from '@confluentinc/schemaregistry';
import { AvroSerde, wireSchemaId } from '../../engine/serde/avro/avro-serde.ts';
import { SchemaRegistry } from '../../engine/serde/avro/registry.ts';
import { SerdeError } from '../../engine/errors.ts';
import { uniqueName } from '../helpers/kafka.ts';

const POINT_V1: { type: 'record'; name: string; namespace: string; fields: Array<{ name: string; type: string; default?: string }> } = {
  type: 'record',
  name: 'Point',
  namespace: 'sluice.test',
  fields: [
    { name: 'x', type: 'int' },
    { name: 'label', type: 'string' },
  ],
};

const POINT_V2 = { ...POINT_V1, fields: [...POINT_V1.fields, { name: 'color', type: 'string', default: 'blue' }] };

/** Reads with the serde the way the engine does (fetch at the batch boundary, then read synchronously), as plain data. */
async function read<T>(serde: AvroSerde<T>, data: Buffer, topic: string): Promise<unknown> {
  await serde.prefetch(data);
  return plain(serde.deserialize(data, topic));
}

/** avsc reads records into instances of generated classes; the tests compare their data. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('Avro serde (Confluent wire format)', () => {
  let registry: SchemaRegistry;
  let topic: string;
  beforeEach(() => {
    registry = new SchemaRegistry({ url: `mock://${uniqueName('registry')}` });
    topic = uniqueName('points');
  });

  it('writes exactly the bytes the wire format specifies: magic 0, the id big-endian, the Avro body', async () => {
    const serde = new AvroSerde({ schema: POINT_V1, registry });
    await serde.prepare(topic);
    const bytes = serde.serialize({ x: 1, label: 'ab' }, topic)!;
    const id = (await (await registry.client()).getLatestSchemaMetadata(`${topic}-value`)).id!;
    // By hand: int 1 zig-zags to 0x02; the string "ab" is its length (2, zig-zag 0x04) and its UTF-8 bytes.
    const expected = Buffer.from([0x00, (id >>> 24) & 0xff, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff, 0x02, 0x04, 0x61, 0x62]);
    expect(bytes.equals(expected), bytes.toString('hex')).to.equal(true);
    // Negative numbers zig-zag too: -3 is 0x05.
    expect(serde.serialize({ x: -3, label: '' }, topic)!.subarray(5).equals(Buffer.from([0x05, 0x00]))).to.equal(true);
  });

  it('reads a record made by hand from the specification', async () => {
    const serde = new AvroSerde<{ x: number; label: string }>({ schema: POINT_V1, registry });
    const id = await (await registry.client()).register(`${topic}-value`, { schemaType: 'AVRO', schema: JSON.stringify(POINT_V1) }, false);
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    // x = 150 (zig-zag 300 = 0xac 0x02), label = "héllo" (6 UTF-8 bytes: length 0x0c).
    const record = Buffer.concat([header, Buffer.from([0xac, 0x02, 0x0c]), Buffer.from('héllo', 'utf8')]);
    expect(await read(serde, record, topic)).to.deep.equal({ x: 150, label: 'héllo' });
  });

  it("matches Confluent's own serializer byte for byte, and Confluent's deserializer reads what it writes", async () => {
    const ours = new AvroSerde({ schema: POINT_V1, registry });
    await ours.prepare(topic);
    const theirs = new AvroSerializer(await registry.client(), SerdeType.VALUE, { useLatestVersion: true });
    const value = { x: 42, label: 'forty-two' };
    const expected = await theirs.serialize(topic, value);
    expect(ours.serialize(value, topic)!.toString('hex')).to.equal(expected.toString('hex'));
    const reader = new AvroDeserializer(await registry.client(), SerdeType.VALUE, {});
    expect(plain(await reader.deserialize(topic, ours.serialize(value, topic)!))).to.deep.equal(value);
  });

  it('evolves: v1 records read with a v2 reader get the default, v2 records read with v1 lose the new field', async () => {
    const v1 = new AvroSerde({ schema: POINT_V1, registry });
    await v1.prepare(topic);
    const v2 = new AvroSerde({ schema: POINT_V2, registry });
    await v2.prepare(topic);
    const oldRecord = v1.serialize({ x: 1, label: 'old' }, topic)!;
    const newRecord = v2.serialize({ x: 2, label: 'new', color: 'red' }, topic)!;
    expect(wireSchemaId(oldRecord)).to.not.equal(wireSchemaId(newRecord));
    expect(await read(new AvroSerde({ schema: POINT_V2, registry }), oldRecord, topic)).to.deep.equal({ x: 1, label: 'old', color: 'blue' });
    expect(await read(new AvroSerde({ schema: POINT_V1, registry }), newRecord, topic)).to.deep.equal({ x: 2, label: 'new' });
    // Without a reader schema, the writer's own.
    expect(await read(new AvroSerde({ registry }), newRecord, topic)).to.deep.equal({ x: 2, label: 'new', color: 'red' });
  });

  it('refuses to read with a schema that cannot resolve the writer, naming the schema id', async () => {
    const writer = new AvroSerde({ schema: POINT_V1, registry });
    await writer.prepare(topic);
    const record = writer.serialize({ x: 1, label: 'a' }, topic)!;
    const incompatible = new AvroSerde({ schema: { ...POINT_V1, fields: [{ name: 'y', type: 'int' }] }, registry });
    await incompatible.prefetch(record);
    expect(() => incompatible.deserialize(record, topic)).to.throw(SerdeError, new RegExp(`schema ${wireSchemaId(record)}`));
  });

  it('throws a SerdeError for an unknown schema id, a foreign format, a corrupt body, and a value off its schema', async () => {
    const serde = new AvroSerde({ schema: POINT_V1, registry });
    await serde.prepare(topic);
    const unknown = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 0x02, 0x00]);
    await serde.prefetch(unknown);
    expect(() => serde.deserialize(unknown, topic)).to.throw(SerdeError, /schema id 2147483632/);
    expect(() => serde.deserialize(Buffer.from('{"x":1}'), topic)).to.throw(SerdeError, /not in the Confluent wire format/);
    const good = serde.serialize({ x: 1, label: 'abc' }, topic)!;
    expect(() => serde.deserialize(good.subarray(0, good.length - 2), topic)).to.throw(SerdeError, /not a valid Avro record/);
    expect(() => serde.serialize({ x: 'one', label: 'a' } as never, topic)).to.throw(SerdeError, /does not match schema/);
    expect(() => serde.serialize({ x: 1, label: 'a' }, 'never-prepared')).to.throw(SerdeError, /no registered schema/);
  });

  it('names subjects by the topic-name, record-name and topic-record-name strategies', async () => {
    expect(new AvroSerde({ schema: POINT_V1, registry }).subject('t')).to.equal('t-value');
    expect(new AvroSerde({ schema: POINT_V1, registry, isKey: true }).subject('t')).to.equal('t-key');
    expect(new AvroSerde({ schema: POINT_V1, registry, subjectStrategy: 'record-name' }).subject('t')).to.equal('sluice.test.Point');
    expect(new AvroSerde({ schema: POINT_V1, registry, subjectStrategy: 'topic-record-name' }).subject('t')).to.equal('t-sluice.test.Point');
    const byRecord = new AvroSerde({ schema: POINT_V1, registry, subjectStrategy: 'record-name' });
    await byRecord.prepare(topic);
    // One registration serves every topic under the record-name strategy.
    expect(wireSchemaId(byRecord.serialize({ x: 1, label: 'a' }, 'another-topic'))).to.be.a('number');
    expect(await (await registry.client()).getAllSubjects()).to.include('sluice.test.Point');
  });

  it('writes with the latest registered schema when useLatest is set, and never registers', async () => {
    await new AvroSerde({ schema: POINT_V2, registry }).prepare(topic);
    const latest = new AvroSerde({ registry, useLatest: true });
    await latest.prepare(topic);
    const bytes = latest.serialize({ x: 3, label: 'c', color: 'green' }, topic)!;
    expect(await read(new AvroSerde({ schema: POINT_V2, registry }), bytes, topic)).to.deep.equal({ x: 3, label: 'c', color: 'green' });
    expect(await (await registry.client()).getAllVersions(`${topic}-value`)).to.have.length(1);
  });
});
