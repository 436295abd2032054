import type { ConnectionOptions } from '../kafka/config.ts';
import { partitionForKey } from '../kafka/murmur2.ts';
import { KafkaProducer } from '../kafka/producer.ts';
import type { CompiledStore } from '../topology/compiled.ts';
import { QueryError } from './query-error.ts';

/** What `POST /v1/stores/{store}/resolutions` accepts: a person's decision on an open conflict. */
export interface ResolutionRequest {
  mutation_id: string;
  entity_type: string;
  entity_id: string;
  /** Per conflicting attribute: `current`, `incoming`, or `{ value }`. */
  choices: Record<string, unknown>;
  resolved_by?: string;
}

/** Where an accepted resolution was written. */
export interface Accepted {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * Takes resolutions of open conflicts over HTTP and writes them to the topic the
 * `detectConflicts` operator reads its resolutions from, keyed by the entity
 * (`entity_type:entity_id`, as the mutations are), so the task that holds the conflict applies
 * them. The answer (202) means the resolution is in the log; its outcome, RESOLVED or REJECTED,
 * comes on the status stream like any other. Writes go through a producer of their own
 * (idempotent, not transactional), made at the first resolution.
 */
export class ResolutionIntake {
  private readonly stores: Map<string, NonNullable<CompiledStore['resolutions']>>;
  private readonly connection: ConnectionOptions;
  private producer: Promise<KafkaProducer> | undefined;

  constructor(stores: readonly CompiledStore[], connection: ConnectionOptions) {
    this.stores = new Map(stores.flatMap((s) => (s.resolutions ? [[s.name, s.resolutions] as const] : [])));
    this.connection = connection;
  }

  async submit(store: string, body: unknown): Promise<Accepted> {
    const target = this.stores.get(store);
    if (!target) throw new QueryError(404, 'no-resolutions', `Store "${store}" is not a store of open conflicts that takes resolutions from a topic.`);
    const request = checkRequest(body);
    const resolution = { mutation_id: request.mutation_id, choices: request.choices, resolved_by: request.resolved_by ?? 'http', timestamp: new Date().toISOString() };
    const key = `${request.entity_type}:${request.entity_id}`;
    const producer = await (this.producer ??= this.connect());
    const keyBytes = target.keySerde.serialize(key, target.topic)!;
    // Placed by its key, as the mutations are, so it reaches the task that holds the conflict.
    const partition = partitionForKey(keyBytes, producer.partitionCount(target.topic)!);
    producer.send({ topic: target.topic, partition, key: keyBytes, value: target.valueSerde.serialize(resolution, target.topic) });
    await producer.flush(30_000);
    // The partition's last acknowledged offset: this record's, unless another resolution for the
    // same partition was written just after it.
    return { topic: target.topic, partition, offset: producer.deliveredOffset(target.topic, partition) ?? -1 };
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await (await producer.catch(() => undefined))?.disconnect();
  }

  private async connect(): Promise<KafkaProducer> {
    try {
      const producer = await KafkaProducer.connect(this.connection);
      const topics = [...new Set([...this.stores.values()].map((s) => s.topic))];
      await producer.loadPartitionCounts(topics);
      producer.trackDeliveredOffsets(topics);
      return producer;
    } catch (err) {
      this.producer = undefined;
      throw err;
    }
  }
}

const CHOICE_WORDS = new Set(['current', 'incoming']);

/** Checks a request body; every problem is a 400 that says what is wrong. */
function checkRequest(body: unknown): ResolutionRequest {
  const bad = (message: string) => QueryError.badRequest('bad-resolution', message);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('The body must be a JSON object: { mutation_id, entity_type, entity_id, choices, resolved_by? }.');
  const b = body as Record<string, unknown>;
  for (const field of ['mutation_id', 'entity_type', 'entity_id'] as const) {
    if (typeof b[field] !== 'string' || (b[field] as string).length === 0 || (b[field] as string).length > 1024) throw bad(`${field} must be a non-empty string (at most 1024 characters).`);
  }
  if (b.resolved_by !== undefined && (typeof b.resolved_by !== 'string' || b.resolved_by.length > 256)) throw bad('resolved_by must be a string of at most 256 characters.');
  const choices = b.choices;
  if (!choices || typeof choices !== 'object' || Array.isArray(choices) || Object.keys(choices).length === 0) {
    throw bad('choices must be an object naming each attribute to decide: "current", "incoming" or { "value": ... }.');
  }
  for (const [attribute, choice] of Object.entries(choices)) {
    const isValue = typeof choice === 'object' && choice !== null && !Array.isArray(choice) && Object.keys(choice).length === 1 && 'value' in choice;
    if (!(typeof choice === 'string' && CHOICE_WORDS.has(choice)) && !isValue) throw bad(`choices.${attribute} must be "current", "incoming" or { "value": ... }.`);
  }
  const extra = Object.keys(b).filter((k) => !['mutation_id', 'entity_type', 'entity_id', 'choices', 'resolved_by'].includes(k));
  if (extra.length > 0) throw bad(`Unknown fields: ${extra.join(', ')}.`);
  return b as unknown as ResolutionRequest;
}
