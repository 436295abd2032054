// The application's dead letters, for the query server's /v1/dead-letters routes (docs/queries.md):
// read from its dead-letter topics newest first, replayed to the topic they failed in, and
// marked handled in a compacted topic of the application's. Any instance answers: everything is
// read from and written to Kafka.
import { SluiceError } from '../errors.ts';
import { KafkaAdmin } from '../kafka/admin.ts';
import type { ConnectionOptions } from '../kafka/config.ts';
import { KafkaConsumer } from '../kafka/consumer.ts';
import { readRanges, type PartitionRange } from '../kafka/reader.ts';
import type { ConsumedRecord } from '../kafka/records.ts';
import { DeadLetterHeaders } from '../runtime/record-errors.ts';
import {
  type DeadLetterId,
  type ListCursor,
  ReplayHeaders,
  deadLettersHandledTopic,
  decodeCursor,
  encodeCursor,
  header,
  idText,
  originalHeaders,
  readIds,
  showDeadLetter,
} from './dead-letter-records.ts';
import { QueryError } from './query-error.ts';
import type { WrittenRecord } from './routes.ts';
import type { TopicWriter } from './topic-writer.ts';

/** What the handled topic says of a dead letter. */
export type Handling = { action: 'replayed'; at: string; to: WrittenRecord } | { action: 'marked'; at: string };

export interface DeadLettersOptions {
  connection: ConnectionOptions;
  applicationId: string;
  /** The application's dead-letter topics. */
  topics: readonly string[];
  /** The topics its sources read: the only ones a replay writes to. */
  sourceTopics: readonly string[];
  writer: TopicWriter;
}

export interface DeadLetterPage {
  topics: readonly string[];
  records: Array<Record<string, unknown>>;
  next?: string;
}

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 200;
const READ_STALL_MS = 15_000;

export class DeadLetters {
  readonly topics: readonly string[];
  private readonly options: DeadLettersOptions;
  private readonly handledTopic: string;
  private handledTopicReady: Promise<void> | undefined;

  constructor(options: DeadLettersOptions) {
    this.options = options;
    this.topics = options.topics;
    this.handledTopic = deadLettersHandledTopic(options.applicationId);
  }

  /**
   * A page of dead letters, newest first: each partition's from its end down, the partitions
   * merged by record time. `topic` keeps one topic; `cursor` is the `next` of the page before.
   */
  async list(query: { topic?: string; limit?: string; cursor?: string }): Promise<DeadLetterPage> {
    const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw QueryError.badRequest('bad-limit', `limit must be a whole number from 1 to ${MAX_LIMIT}.`);
    if (query.topic !== undefined && !this.topics.includes(query.topic)) {
      throw QueryError.notFound('unknown-dead-letter-topic', `"${query.topic.slice(0, 200)}" is not a dead-letter topic of this application.`, { topics: this.topics });
    }
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const topics = query.topic === undefined ? this.topics : [query.topic];
    const { offsets, handledRange } = await this.offsets(topics);
    const windows: PartitionRange[] = [];
    for (const o of offsets) {
      const upper = Math.min(o.high, Math.max(o.low, cursor === undefined ? o.high : (cursor[`${o.topic}/${o.partition}`] ?? o.low)));
      if (upper > o.low) windows.push({ topic: o.topic, partition: o.partition, from: Math.max(o.low, upper - limit), to: upper });
    }
    const { records, handled } = await this.read(windows, handledRange);
    const taken = newestFirst(windows, records, limit);
    const next: ListCursor = {};
    for (const w of windows) {
      const id = `${w.topic}/${w.partition}`;
      const read = records.filter((r) => r.topic === w.topic && r.partition === w.partition);
      const lowest = taken.filter((r) => r.topic === w.topic && r.partition === w.partition).at(-1)?.offset;
      next[id] = lowest ?? (read.length === 0 ? w.from : w.to);
    }
    const more = offsets.some((o) => (next[`${o.topic}/${o.partition}`] ?? o.low) > o.low);
    return {
      topics,
      records: taken.map((r) => showDeadLetter(r, handled.get(idText(r)))),
      ...(more ? { next: encodeCursor(next) } : {}),
    };
  }

  /** One dead letter, or a 404. */
  async get(id: DeadLetterId): Promise<Record<string, unknown>> {
    if (!this.topics.includes(id.topic)) throw QueryError.notFound('unknown-dead-letter-topic', `"${id.topic.slice(0, 200)}" is not a dead-letter topic of this application.`, { topics: this.topics });
    const { records, handled } = await this.find([id]);
    return showDeadLetter(records.get(idText(id))!, handled.get(idText(id)));
  }

  /**
   * Writes each dead letter's original key, value, timestamp and headers to the partition of
   * the topic it failed in, with `sluice.replayed-from` and `sluice.replayed-at`, and records the
   * replay in the handled topic. Every record is checked before any is written.
   */
  async replay(body: unknown): Promise<{ replayed: Array<{ deadLetter: DeadLetterId; to: WrittenRecord }> }> {
    const ids = readIds(body, this.topics);
    const { records } = await this.find(ids);
    const plans = ids.map((id) => ({ id, record: records.get(idText(id))!, source: this.replayable(id, records.get(idText(id))!) }));
    const at = new Date().toISOString();
    const replayed: Array<{ deadLetter: DeadLetterId; to: WrittenRecord }> = [];
    for (const { id, record, source } of plans) {
      const headers = [...originalHeaders(record.headers), { [ReplayHeaders.from]: idText(id) }, { [ReplayHeaders.at]: at }];
      const to = await this.kafka(() => this.options.writer.send({ topic: source.topic, partition: source.partition, key: record.key, value: record.value, timestamp: record.timestamp, headers }));
      await this.note(id, { action: 'replayed', at, to });
      replayed.push({ deadLetter: id, to });
    }
    return { replayed };
  }

  /** Marks dead letters handled (`"handled": false` takes the mark, or a replay's, away again). */
  async mark(body: unknown): Promise<{ handled: boolean; records: DeadLetterId[] }> {
    const ids = readIds(body, this.topics);
    const flag = (body as { handled?: unknown }).handled ?? true;
    if (typeof flag !== 'boolean') throw QueryError.badRequest('bad-dead-letter', '"handled" must be true or false.');
    await this.find(ids);
    const at = new Date().toISOString();
    for (const id of ids) await this.note(id, flag ? { action: 'marked', at } : null);
    return { handled: flag, records: ids };
  }

  /** Where a dead letter goes back to, or a 409 saying why it cannot. */
  private replayable(id: DeadLetterId, record: ConsumedRecord): { topic: string; partition: number } {
    const topic = header(record.headers, DeadLetterHeaders.topic);
    const partition = Number(header(record.headers, DeadLetterHeaders.partition));
    const cut = header(record.headers, DeadLetterHeaders.truncated);
    const refuse = (why: string) => new QueryError(409, 'not-replayable', `Dead letter ${idText(id)} cannot be replayed: ${why}`, { record: id });
    if (topic === undefined || !Number.isSafeInteger(partition) || partition < 0) throw refuse(`it has no ${DeadLetterHeaders.topic} and ${DeadLetterHeaders.partition} headers.`);
    if (cut !== undefined) throw refuse(`it was cut to fit the dead-letter topic (${cut}); the original is lost.`);
    if (!this.options.sourceTopics.includes(topic)) throw refuse(`its source topic "${topic}" is not read by this application.`);
    return { topic, partition };
  }

  /** The named dead letters (a 404 for any that is not there), and what the handled topic says. */
  private async find(ids: DeadLetterId[]): Promise<{ records: Map<string, ConsumedRecord>; handled: Map<string, Handling> }> {
    const { offsets, handledRange } = await this.offsets([...new Set(ids.map((id) => id.topic))]);
    const spans = new Map<string, PartitionRange>();
    for (const id of ids) {
      const at = `${id.topic}/${id.partition}`;
      const span = spans.get(at);
      spans.set(at, { topic: id.topic, partition: id.partition, from: Math.min(span?.from ?? id.offset, id.offset), to: Math.max(span?.to ?? 0, id.offset + 1) });
    }
    const inside = [...spans.values()].filter((s) => offsets.some((o) => o.topic === s.topic && o.partition === s.partition));
    const windows = inside.map((s) => {
      const o = offsets.find((p) => p.topic === s.topic && p.partition === s.partition)!;
      return { ...s, from: Math.max(s.from, o.low), to: Math.min(s.to, o.high) };
    });
    const { records, handled } = await this.read(windows, handledRange);
    const byId = new Map(records.map((r) => [idText(r), r]));
    const missing = ids.filter((id) => !byId.has(idText(id)));
    if (missing.length > 0) throw QueryError.notFound('dead-letter-not-found', `No dead letter at ${missing.map(idText).join(', ')} (never written, deleted by retention, or in an aborted transaction).`, { records: missing });
    return { records: byId, handled };
  }

  /** The partitions of `topics` with their first and next offsets, and the handled topic's. */
  private async offsets(topics: readonly string[]): Promise<{ offsets: Array<{ topic: string; partition: number; low: number; high: number }>; handledRange: PartitionRange | undefined }> {
    return this.kafka(async () => {
      const admin = KafkaAdmin.connect(this.options.connection);
      try {
        const offsets = (await Promise.all(topics.map(async (topic) => (await admin.topicOffsets(topic)).map((o) => ({ topic, ...o }))))).flat();
        const [handled] = await admin.topicOffsets(this.handledTopic);
        return { offsets, handledRange: handled === undefined ? undefined : { topic: this.handledTopic, partition: 0, from: handled.low, to: handled.high } };
      } finally {
        admin.disconnect();
      }
    });
  }

  /** Reads `ranges` and the handled topic in one go (committed records only). */
  private async read(ranges: PartitionRange[], handledRange: PartitionRange | undefined): Promise<{ records: ConsumedRecord[]; handled: Map<string, Handling> }> {
    const all = handledRange === undefined ? ranges : [...ranges, handledRange];
    const records: ConsumedRecord[] = [];
    const handled = new Map<string, Handling>();
    if (all.every((r) => r.to <= r.from)) return { records, handled };
    await this.kafka(async () => {
      const consumer = await KafkaConsumer.connect({ ...this.options.connection, isolationLevel: 'read_committed' });
      try {
        await readRanges(
          consumer,
          all,
          (batch) => {
            for (const record of batch) {
              if (record.topic !== this.handledTopic) records.push(record);
              else if (record.key !== null) noteHandling(handled, record);
            }
          },
          { stallTimeoutMs: READ_STALL_MS },
        );
      } finally {
        await consumer.disconnect();
      }
    });
    return { records, handled };
  }

  /** Writes what happened to a dead letter (or a tombstone) to the handled topic, made at the first write. */
  private async note(id: DeadLetterId, handling: Handling | null): Promise<void> {
    await this.kafka(async () => {
      await (this.handledTopicReady ??= this.createHandledTopic());
      await this.options.writer.send({ topic: this.handledTopic, partition: 0, key: Buffer.from(idText(id)), value: handling === null ? null : Buffer.from(JSON.stringify(handling)) });
    });
  }

  private async createHandledTopic(): Promise<void> {
    const admin = KafkaAdmin.connect(this.options.connection);
    try {
      await admin.createTopic({ name: this.handledTopic, partitions: 1, config: { 'cleanup.policy': 'compact' } });
    } catch (err) {
      this.handledTopicReady = undefined;
      throw err;
    } finally {
      admin.disconnect();
    }
  }

  /** Runs a Kafka call; its failure (not the request's fault) answers 503 rather than 500. */
  private async kafka<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof QueryError || !(err instanceof SluiceError)) throw err;
      throw QueryError.unavailable('dead-letters-unavailable', `The dead-letter topics could not be read or written: ${err.message}`, {}, 5);
    }
  }
}

function noteHandling(handled: Map<string, Handling>, record: ConsumedRecord): void {
  const id = record.key!.toString('utf8');
  if (record.value === null) {
    handled.delete(id);
    return;
  }
  try {
    handled.set(id, JSON.parse(record.value.toString('utf8')) as Handling);
  } catch {
    // Not written by this module: ignored.
  }
}

/** Up to `limit` records, each partition's newest first, the partitions merged by record time. */
function newestFirst(windows: PartitionRange[], records: ConsumedRecord[], limit: number): ConsumedRecord[] {
  const queues = windows.map((w) => records.filter((r) => r.topic === w.topic && r.partition === w.partition).sort((a, b) => b.offset - a.offset));
  const taken: ConsumedRecord[] = [];
  while (taken.length < limit) {
    let best: ConsumedRecord[] | undefined;
    for (const queue of queues) if (queue.length > 0 && (best === undefined || queue[0]!.timestamp > best[0]!.timestamp)) best = queue;
    if (best === undefined) break;
    taken.push(best.shift()!);
  }
  return taken;
}
