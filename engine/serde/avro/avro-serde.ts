import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { ConfigError, SerdeError } from '../../errors.ts';
import type { Serde } from '../serde-interface.ts';
import { type KnownSchema, SchemaRegistry, SchemaRegistryError, avroInfo, registryError } from './registry.ts';

/** How a topic's records find their subject in the registry (Confluent's three strategies). */
export type SubjectStrategy = 'topic-name' | 'record-name' | 'topic-record-name';

export interface AvroSerdeOptions {
  /**
   * The schema: an `.avsc` file (a path, or a file name in `schemas/`), a schema object, or an
   * avsc type. Records are read into it, resolving the writer's schema (fields added with
   * defaults are filled in). Without one, records are read with their writer's schema and
   * nothing can be written unless `useLatest` is set.
   */
  schema?: string | avro.Schema | avro.Type;
  /** Default: `SCHEMA_REGISTRY_URL`'s registry, else the in-process one. */
  registry?: SchemaRegistry;
  /** Default `topic-name`: subject `<topic>-value` (or `-key`). */
  subjectStrategy?: SubjectStrategy;
  /** A key serde: subjects end in `-key`. Default false. */
  isKey?: boolean;
  /** Register the schema when it is not registered yet. Default true. */
  autoRegister?: boolean;
  /** Write with the subject's latest registered schema instead of this one. Default false. */
  useLatest?: boolean;
}

/** The Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian integer, then the Avro body. */
export const WIRE_HEADER_BYTES = 5;

/** The schema id of a record in the Confluent wire format, or undefined if it is not one. */
export function wireSchemaId(data: Buffer | null): number | undefined {
  if (data === null || data.length < WIRE_HEADER_BYTES || data[0] !== 0) return undefined;
  return data.readInt32BE(1);
}

interface Writer extends KnownSchema {
  header: Buffer;
}

/**
 * Avro in the Confluent wire format, synchronous on the per-record path: the schema ids it
 * writes are registered (or looked up) by `prepare` before records flow, and the ids it reads
 * are fetched by `prefetch` at batch boundaries, so `serialize` and `deserialize` never wait.
 * The bytes are exactly those of Confluent's serializers.
 */
export class AvroSerde<T = unknown> implements Serde<T> {
  readonly name = 'avro';
  readonly registry: SchemaRegistry;
  private readonly reader: avro.Type | undefined;
  private readonly strategy: SubjectStrategy;
  private readonly isKey: boolean;
  private readonly autoRegister: boolean;
  private readonly useLatest: boolean;
  /** Writers by topic (`*` for a subject that does not depend on the topic). */
  private readonly writers = new Map<string, Writer>();
  /** Resolvers from a writer schema (by id) to the reader schema. */
  private readonly resolvers = new Map<number, avro.Resolver | null>();

  constructor(options: AvroSerdeOptions = {}) {
    this.reader = options.schema === undefined ? undefined : toType(options.schema);
    this.registry = options.registry ?? SchemaRegistry.fromEnvironment();
    this.strategy = options.subjectStrategy ?? 'topic-name';
    this.isKey = options.isKey ?? false;
    this.autoRegister = options.autoRegister ?? true;
    this.useLatest = options.useLatest ?? false;
    if (this.strategy !== 'topic-name' && !this.reader?.name && !this.useLatest) {
      throw new ConfigError(`The ${this.strategy} subject strategy needs a named (record) schema.`);
    }
  }

  /** The reader schema, if the serde has one. */
  get schema(): avro.Type | undefined {
    return this.reader;
  }

  /** The registry subject of this serde's records in `topic`. */
  subject(topic: string): string {
    const name = this.reader?.name;
    if (this.strategy === 'record-name') return name!;
    if (this.strategy === 'topic-record-name') return `${topic}-${name}`;
    return `${topic}-${this.isKey ? 'key' : 'value'}`;
  }

  /**
   * Makes `topic` writable and its history readable: registers the schema (or finds it, or
   * takes the latest) and loads every version of the subject. The engine calls it at start
   * for every topic the serde writes or a store keeps.
   */
  async prepare(topic: string): Promise<void> {
    const key = this.strategy === 'record-name' ? '*' : topic;
    const subject = this.subject(topic);
    if (!this.writers.has(key) && (this.reader || this.useLatest)) {
      let writer: KnownSchema;
      if (this.useLatest) writer = await this.registry.latest(subject);
      else if (this.autoRegister) writer = await this.registry.register(subject, this.reader!);
      else writer = await this.lookUp(subject, this.reader!);
      const header = Buffer.alloc(WIRE_HEADER_BYTES);
      header.writeInt32BE(writer.id, 1);
      this.writers.set(key, { ...writer, header });
    }
    await this.registry.loadSubject(subject);
  }

  /** Fetches the writer schema of a record about to be read, when it is not known yet. */
  prefetch(data: Buffer | null): Promise<void> | undefined {
    const id = wireSchemaId(data);
    if (id === undefined || this.registry.typeOf(id) || this.registry.failure(id)) return undefined;
    return this.registry.load(id);
  }

  serialize(value: T, topic: string): Buffer | null {
    if (value === null || value === undefined) return null;
    const writer = this.writers.get(this.strategy === 'record-name' ? '*' : topic);
    if (!writer) {
      throw new SerdeError('avro', topic, 'has no registered schema for this topic yet (the engine registers schemas at start for the topics it knows; a topic chosen per record needs the record-name strategy, or `sluice schemas register` and useLatest)');
    }
    let body: Buffer;
    try {
      body = writer.type.toBuffer(value);
    } catch (err) {
      throw new SerdeError('avro', topic, `cannot write a value that does not match schema ${writer.id} (${describeInvalid(writer.type, value)})`, err);
    }
    return Buffer.concat([writer.header, body], WIRE_HEADER_BYTES + body.length);
  }

  deserialize(data: Buffer | null, topic: string): T {
    if (data === null) return null as T;
    const id = wireSchemaId(data);
    if (id === undefined) throw new SerdeError('avro', topic, 'is not in the Confluent wire format (magic byte 0 and a 4-byte schema id)');
    const writer = this.registry.typeOf(id);
    if (!writer) {
      const failure = this.registry.failure(id);
      throw new SerdeError('avro', topic, failure ? `names schema id ${id}, which the registry does not give: ${failure.message}` : `names schema id ${id}, which was not fetched before the record was read`, failure);
    }
    const body = data.subarray(WIRE_HEADER_BYTES);
    try {
      if (!this.reader) return writer.fromBuffer(body) as T;
      return this.reader.fromBuffer(body, this.resolver(id, writer, topic) ?? undefined) as T;
    } catch (err) {
      if (err instanceof SerdeError) throw err;
      throw new SerdeError('avro', topic, `is not a valid Avro record of schema ${id} (${(err as Error).message})`, err);
    }
  }

  private resolver(id: number, writer: avro.Type, topic: string): avro.Resolver | null {
    let resolver = this.resolvers.get(id);
    if (resolver === undefined) {
      try {
        resolver = writer.equals(this.reader!) ? null : this.reader!.createResolver(writer);
      } catch (err) {
        throw new SerdeError('avro', topic, `was written with schema ${id}, which this reader's schema cannot resolve (${(err as Error).message})`, err);
      }
      this.resolvers.set(id, resolver);
    }
    return resolver;
  }

  private async lookUp(subject: string, type: avro.Type): Promise<KnownSchema> {
    try {
      const id = await (await this.registry.client()).getId(subject, avroInfo(type), false);
      return { id, type };
    } catch (err) {
      throw registryError(`find the schema in subject "${subject}" (autoRegister is off)`, err);
    }
  }
}

/** Reads a schema given as a file, an object or a type. */
export function toType(schema: string | avro.Schema | avro.Type): avro.Type {
  if (schema instanceof avro.Type) return schema;
  if (typeof schema === 'string' && schema.endsWith('.avsc')) return avro.Type.forSchema(readSchemaFile(schema));
  try {
    return avro.Type.forSchema(schema);
  } catch (err) {
    throw new ConfigError(`Not a valid Avro schema: ${(err as Error).message}`, { cause: err });
  }
}

/** Parses an `.avsc` file: a path, or a file name looked up in `./schemas/`. */
export function readSchemaFile(file: string): avro.Schema {
  const candidates = path.isAbsolute(file) || file.includes('/') ? [path.resolve(file)] : [path.resolve(file), path.resolve('schemas', file)];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new ConfigError(`Avro schema file "${file}" not found (looked at ${candidates.join(', ')}).`);
  let schema: avro.Schema;
  try {
    schema = JSON.parse(fs.readFileSync(found, 'utf8')) as avro.Schema;
    avro.Type.forSchema(schema);
  } catch (err) {
    throw new ConfigError(`Avro schema file ${found} is not a valid schema: ${(err as Error).message}`, { cause: err });
  }
  return schema;
}

function describeInvalid(type: avro.Type, value: unknown): string {
  const problems: string[] = [];
  type.isValid(value, { errorHook: (at: string[], v: unknown) => problems.push(`${at.join('.') || 'the value'} = ${JSON.stringify(v)?.slice(0, 60)}`) });
  return problems.length > 0 ? `invalid: ${problems.slice(0, 3).join('; ')}` : 'invalid';
}

export { SchemaRegistry, SchemaRegistryError };
