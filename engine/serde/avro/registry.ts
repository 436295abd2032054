import type { Client, SchemaInfo } from '@confluentinc/schemaregistry';
import avro from 'avsc';
import { ConfigError, SluiceError } from '../../errors.ts';

/** A schema the registry refused, or a registry that cannot be reached. */
const REGISTRIES = Symbol.for('sluice.schema-registries');

export class SchemaRegistryError extends SluiceError {
  /** The registry's HTTP status, when it answered. */
  readonly status: number | undefined;

  constructor(message: string, options: { cause?: unknown; status?: number } = {}) {
    super('SLUICE_SCHEMA_REGISTRY', message, { cause: options.cause });
    this.status = options.status;
  }
}

export interface RegistryOptions {
  /** The registry's URL; `mock://<name>` (or none) for the in-process registry. */
  url?: string;
  /** `user:password` for HTTP basic authentication. */
  userInfo?: string;
  /** A bearer token. */
  token?: string;
}

/** A writer schema the registry knows: its id and its parsed type. */
export interface KnownSchema {
  id: number;
  type: avro.Type;
}

/**
 * A Confluent schema registry, through @confluentinc/schemaregistry's client (its in-memory
 * client when no URL is given), with the caches the synchronous serdes need: every schema id
 * this process has seen, parsed once. Loading an id is asynchronous and happens at batch
 * boundaries; reading a loaded one is a map lookup.
 */
export class SchemaRegistry {
  readonly url: string;
  readonly embedded: boolean;
  private connecting: Promise<Client> | undefined;
  private readonly options: RegistryOptions;
  private readonly byId = new Map<number, avro.Type>();
  private readonly missing = new Map<number, { error: Error; at: number }>();
  private readonly loading = new Map<number, Promise<void>>();

  constructor(options: RegistryOptions = {}) {
    this.options = options;
    this.url = options.url ?? 'mock://sluice';
    this.embedded = this.url.startsWith('mock://');
    if (!this.embedded && !/^https?:\/\/[^\s/]+/.test(this.url)) throw new ConfigError(`SCHEMA_REGISTRY_URL must be an http(s) URL, not "${this.url}".`);
  }

  /**
   * The registry client, created at first use. @confluentinc/schemaregistry is imported only
   * then: with the cloud KMS clients it pulls in, importing it costs about 85 MB of resident
   * memory, which an application without Avro should not pay.
   */
  client(): Promise<Client> {
    this.connecting ??= import('@confluentinc/schemaregistry').then(({ SchemaRegistryClient }) =>
      SchemaRegistryClient.newClient({
        baseURLs: [this.url],
        cacheCapacity: 10_000,
        maxRetries: 2,
        ...(this.options.userInfo ? { basicAuthCredentials: { credentialsSource: 'USER_INFO', userInfo: this.options.userInfo } } : {}),
        ...(this.options.token ? { bearerAuthCredentials: { credentialsSource: 'STATIC_TOKEN', token: this.options.token } } : {}),
      }),
    );
    return this.connecting;
  }

  /**
   * The registry the environment names: `SCHEMA_REGISTRY_URL` (with `SCHEMA_REGISTRY_USER_INFO`
   * or `SCHEMA_REGISTRY_TOKEN`), else one in-process registry shared by the whole process.
   */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): SchemaRegistry {
    const url = env.SCHEMA_REGISTRY_URL?.trim();
    const key = url ? `${url} ${env.SCHEMA_REGISTRY_USER_INFO ?? ''} ${env.SCHEMA_REGISTRY_TOKEN ?? ''}` : 'embedded';
    let registry = shared.get(key);
    if (!registry) shared.set(key, (registry = url ? new SchemaRegistry({ url, userInfo: env.SCHEMA_REGISTRY_USER_INFO, token: env.SCHEMA_REGISTRY_TOKEN }) : new SchemaRegistry()));
    return registry;
  }

  /** The authentication headers for requests made without the client. */
  authHeaders(): Record<string, string> {
    if (this.options.token) return { authorization: `Bearer ${this.options.token}` };
    if (this.options.userInfo) return { authorization: `Basic ${Buffer.from(this.options.userInfo).toString('base64')}` };
    return {};
  }

  /** The parsed writer schema of `id`, if it is loaded. */
  typeOf(id: number): avro.Type | undefined {
    return this.byId.get(id);
  }

  /** Why `id` could not be loaded, if it could not (remembered for a minute). */
  failure(id: number): Error | undefined {
    const miss = this.missing.get(id);
    if (miss && Date.now() - miss.at > 60_000) {
      this.missing.delete(id);
      return undefined;
    }
    return miss?.error;
  }

  /** Fetches and parses the schema of `id` (once, however many ask). Never rejects: a failure is remembered. */
  load(id: number): Promise<void> {
    let pending = this.loading.get(id);
    if (!pending) {
      pending = (async () => {
        try {
          const info = await (await this.client()).getBySubjectAndId('', id);
          this.remember(id, info);
          this.missing.delete(id);
        } catch (err) {
          this.missing.set(id, { error: err instanceof Error ? err : new Error(String(err)), at: Date.now() });
        } finally {
          this.loading.delete(id);
        }
      })();
      this.loading.set(id, pending);
    }
    return pending;
  }

  /** Registers `schema` under `subject` (or finds it registered) and returns its id. */
  async register(subject: string, schema: avro.Type): Promise<KnownSchema> {
    const info = avroInfo(schema);
    try {
      const id = await (await this.client()).register(subject, info, false);
      this.byId.set(id, schema);
      return { id, type: schema };
    } catch (err) {
      throw registryError(`register a schema under subject "${subject}"`, err);
    }
  }

  /** The latest schema registered under `subject`. */
  async latest(subject: string): Promise<KnownSchema> {
    try {
      const metadata = await (await this.client()).getLatestSchemaMetadata(subject);
      const id = idOf(metadata, subject);
      return { id, type: this.remember(id, metadata) };
    } catch (err) {
      throw registryError(`find the latest schema of subject "${subject}"`, err);
    }
  }

  /** Loads every version registered under `subject` (so records written with any of them can be read at once). None is fine. */
  async loadSubject(subject: string): Promise<void> {
    let versions: number[];
    try {
      versions = await (await this.client()).getAllVersions(subject);
    } catch (err) {
      if (httpStatus(err) === 404) return;
      throw registryError(`list the versions of subject "${subject}"`, err);
    }
    for (const version of versions) {
      const metadata = await (await this.client()).getSchemaMetadata(subject, version, false).catch((err) => {
        throw registryError(`read version ${version} of subject "${subject}"`, err);
      });
      this.remember(idOf(metadata, subject), metadata);
    }
  }

  private remember(id: number, info: SchemaInfo): avro.Type {
    let type = this.byId.get(id);
    if (!type) {
      if (info.schemaType && info.schemaType !== 'AVRO') throw new SchemaRegistryError(`Schema ${id} is ${info.schemaType}, not Avro.`);
      type = avro.Type.forSchema(JSON.parse(info.schema) as avro.Schema);
      this.byId.set(id, type);
    }
    return type;
  }
}

/**
 * The registries of this process, by URL and credentials. Kept on the global object: topology
 * files may be loaded as a module graph of their own, and every copy of this module must share
 * one in-process registry, or two would hand out the same ids for different schemas.
 */
const shared: Map<string, SchemaRegistry> = ((globalThis as { [REGISTRIES]?: Map<string, SchemaRegistry> })[REGISTRIES] ??= new Map());

function idOf(metadata: { id?: number }, subject: string): number {
  if (metadata.id === undefined) throw new SchemaRegistryError(`The registry gave no schema id for subject "${subject}".`);
  return metadata.id;
}

/** The registry's form of an Avro schema. */
export function avroInfo(type: avro.Type): SchemaInfo {
  return { schemaType: 'AVRO', schema: JSON.stringify(type.schema({ exportAttrs: true })) };
}

/** A registry failure as a {@link SchemaRegistryError}, with the registry's own reason. */
export function registryError(what: string, err: unknown): SchemaRegistryError {
  if (err instanceof SchemaRegistryError) return err;
  const status = httpStatus(err);
  const reason = err instanceof Error ? err.message : String(err);
  return new SchemaRegistryError(`Could not ${what}: ${reason}${status ? ` (HTTP ${status})` : ''}.`, { cause: err, status });
}

/** The HTTP status of a registry client error (its RestError), if it has one. */
function httpStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}
