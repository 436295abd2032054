// How the dead-letter routes (engine/iq/dead-letters.ts) show records and read requests: bytes
// decoded for people, a dead letter's error headers, the identities a request names, and the
// cursor of the list's pages.
import type { ConsumedRecord, RecordHeader } from '../kafka/records.ts';
import { DeadLetterHeaders } from '../runtime/record-errors.ts';
import { QueryError } from './query-error.ts';

/** Headers a replay adds to the record it writes back to the source topic. */
export const ReplayHeaders = {
  /** `<dead-letter topic>/<partition>/<offset>` of the dead letter replayed. */
  from: 'sluice.replayed-from',
  /** When it was replayed, ISO 8601. */
  at: 'sluice.replayed-at',
} as const;

/** The compacted topic that remembers which dead letters were replayed or marked handled. */
export function deadLettersHandledTopic(applicationId: string): string {
  return `${applicationId}-dead-letters-handled`;
}

/** A dead letter by where it is. */
export interface DeadLetterId {
  topic: string;
  partition: number;
  offset: number;
}

export const idText = (id: DeadLetterId): string => `${id.topic}/${id.partition}/${id.offset}`;

/** Bytes as people read them: JSON when they parse as JSON, else UTF-8 text, else base64. */
export type ShownBytes = { json: unknown } | { text: string } | { base64: string } | null;

export function showBytes(bytes: Buffer | string | null | undefined): ShownBytes {
  if (bytes === null || bytes === undefined) return null;
  const text = typeof bytes === 'string' ? bytes : utf8(bytes);
  if (text === undefined) return { base64: (bytes as Buffer).toString('base64') };
  try {
    return { json: JSON.parse(text) };
  } catch {
    return { text };
  }
}

/** The text of `bytes` when they are valid UTF-8 (they decode and encode back to themselves). */
function utf8(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  return Buffer.byteLength(text) === bytes.length && Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

function headerText(value: Buffer | string): string | undefined {
  return typeof value === 'string' ? value : utf8(value);
}

/** Each header as `{ name, text }` or, for bytes that are not UTF-8, `{ name, base64 }`. */
export function showHeaders(headers: readonly RecordHeader[] | undefined): Array<{ name: string; text?: string; base64?: string }> {
  const shown: Array<{ name: string; text?: string; base64?: string }> = [];
  for (const header of headers ?? []) {
    for (const [name, value] of Object.entries(header)) {
      const text = headerText(value);
      shown.push(text === undefined ? { name, base64: (value as Buffer).toString('base64') } : { name, text });
    }
  }
  return shown;
}

/** The last value of a header, as text. */
export function header(headers: readonly RecordHeader[] | undefined, name: string): string | undefined {
  let found: string | undefined;
  for (const h of headers ?? []) if (h[name] !== undefined) found = headerText(h[name]!);
  return found;
}

const ADDED = new Set<string>([...Object.values(DeadLetterHeaders), ...Object.values(ReplayHeaders)]);

/** The headers the record had before it failed: without those its dead-lettering and any earlier replay added. */
export function originalHeaders(headers: readonly RecordHeader[] | undefined): RecordHeader[] {
  return (headers ?? []).filter((h) => !Object.keys(h).some((name) => ADDED.has(name)));
}

/** A dead letter as the routes answer it. */
export function showDeadLetter(record: ConsumedRecord, handled: unknown): Record<string, unknown> {
  const h = record.headers;
  const partition = header(h, DeadLetterHeaders.partition);
  const offset = header(h, DeadLetterHeaders.offset);
  const sourceTopic = header(h, DeadLetterHeaders.topic);
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    source: sourceTopic === undefined ? null : { topic: sourceTopic, partition: Number(partition), offset: Number(offset) },
    error: {
      stage: header(h, DeadLetterHeaders.stage) ?? null,
      operator: header(h, DeadLetterHeaders.operator) ?? null,
      class: header(h, DeadLetterHeaders.errorClass) ?? null,
      message: header(h, DeadLetterHeaders.errorMessage) ?? null,
    },
    truncated: header(h, DeadLetterHeaders.truncated) ?? null,
    key: showBytes(record.key),
    value: showBytes(record.value),
    headers: showHeaders(h),
    handled: handled ?? null,
  };
}

const MAX_IDS = 100;

function wholeNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw QueryError.badRequest('bad-dead-letter', `${what} must be a whole number of 0 or more.`);
  return value;
}

/**
 * The records a replay or a marking names: `{"records": [{"topic", "partition", "offset"}, ...]}`,
 * 1 to 100 of them, each in one of `topics`, none twice.
 */
export function readIds(body: unknown, topics: readonly string[]): DeadLetterId[] {
  const records = (body as { records?: unknown } | null | undefined)?.records;
  if (typeof body !== 'object' || body === null || !Array.isArray(records)) {
    throw QueryError.badRequest('bad-dead-letter', 'The body must be JSON: {"records": [{"topic", "partition", "offset"}, ...]}.');
  }
  if (records.length === 0 || records.length > MAX_IDS) throw QueryError.badRequest('bad-dead-letter', `"records" must name 1 to ${MAX_IDS} dead letters, not ${records.length}.`);
  const seen = new Set<string>();
  return records.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) throw QueryError.badRequest('bad-dead-letter', `records[${i}] must be an object with "topic", "partition" and "offset".`);
    const { topic, partition, offset } = entry as Record<string, unknown>;
    if (typeof topic !== 'string' || !topics.includes(topic)) {
      throw QueryError.badRequest('unknown-dead-letter-topic', `records[${i}].topic must be a dead-letter topic of this application (${topics.join(', ') || 'it has none'}).`, { topics });
    }
    const id = { topic, partition: wholeNumber(partition, `records[${i}].partition`), offset: wholeNumber(offset, `records[${i}].offset`) };
    if (seen.has(idText(id))) throw QueryError.badRequest('bad-dead-letter', `records[${i}] names ${idText(id)} a second time.`);
    seen.add(idText(id));
    return id;
  });
}

/** Where the next page starts: per `topic/partition`, the offset below which it reads. */
export type ListCursor = Record<string, number>;

export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string): ListCursor {
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    cursor = undefined;
  }
  const valid =
    typeof cursor === 'object' && cursor !== null && !Array.isArray(cursor) && Object.values(cursor).every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
  if (!valid) throw QueryError.badRequest('bad-cursor', 'The cursor is not the "next" of an earlier page of dead letters.');
  return cursor as ListCursor;
}
