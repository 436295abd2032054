import { RecordInputError } from '../errors.ts';
import type { ConsumedRecord, RecordHeader } from '../kafka/records.ts';

/**
 * How keys and values are written in JSON lines:
 * - `auto`: JSON when the bytes are compact JSON (an object, array, number or boolean), else
 *   text when they are UTF-8, else base64 (the line then says `"keyEncoding"` or
 *   `"valueEncoding": "base64"`); `sluice produce` reads such a line back to the same bytes;
 * - `text`: UTF-8 text, always (bytes that are not UTF-8 are replaced);
 * - `base64`: base64 of the bytes, always.
 */
export type DataFormat = 'auto' | 'text' | 'base64';

export const DATA_FORMATS: readonly DataFormat[] = ['auto', 'text', 'base64'];

/** A header value as a line shows it: text, or `{ "base64": … }` for bytes that are not UTF-8. */
type HeaderValue = string | { base64: string };

/** A record as `sluice consume` prints it, one JSON object a line (a contract). */
export interface RecordLine {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: unknown;
  value: unknown;
  /** A header repeated in the record has an array of its values, in order. */
  headers: Record<string, HeaderValue | HeaderValue[]>;
  keyEncoding?: 'base64';
  valueEncoding?: 'base64';
}

/** A record read from `sluice produce` input, not yet placed. */
export interface InputRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  partition?: number;
  timestamp?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A consumed record as one JSON line (without the newline). */
export function recordToLine(record: ConsumedRecord, formats: { key: DataFormat; value: DataFormat }): string {
  const key = showBytes(record.key, formats.key);
  const value = showBytes(record.value, formats.value);
  const line: RecordLine = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: key.shown,
    value: value.shown,
    headers: showHeaders(record.headers ?? []),
    ...(key.base64 ? { keyEncoding: 'base64' as const } : {}),
    ...(value.base64 ? { valueEncoding: 'base64' as const } : {}),
  };
  return JSON.stringify(line);
}

function showBytes(bytes: Buffer | null, format: DataFormat): { shown: unknown; base64: boolean } {
  if (bytes === null) return { shown: null, base64: false };
  if (format === 'base64') return { shown: bytes.toString('base64'), base64: true };
  if (format === 'text') return { shown: bytes.toString('utf8'), base64: false };
  const text = decodeUtf8(bytes);
  if (text === undefined) return { shown: bytes.toString('base64'), base64: true };
  return { shown: compactJson(text) ?? text, base64: false };
}

/** The bytes as text when they are valid UTF-8 (a byte-order mark kept). */
function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The JSON value `text` holds, when writing that value back gives `text` again and it is not a
 * string or null (which would read back as text, or as a tombstone): so showing it is lossless.
 */
function compactJson(text: string): object | number | boolean | undefined {
  const first = text.charCodeAt(0);
  // Only {, [, -, a digit, t or f can start such a value: skip the parse for everything else.
  if (!(first === 123 || first === 91 || first === 45 || (first >= 48 && first <= 57) || first === 116 || first === 102)) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed === 'string' || JSON.stringify(parsed) !== text) return undefined;
    return parsed as object | number | boolean;
  } catch {
    return undefined;
  }
}

function showHeaders(headers: RecordHeader[]): RecordLine['headers'] {
  const shown: RecordLine['headers'] = {};
  for (const header of headers) {
    for (const [name, raw] of Object.entries(header)) {
      const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw;
      const text = decodeUtf8(bytes);
      const value: HeaderValue = text ?? { base64: bytes.toString('base64') };
      const before = shown[name];
      shown[name] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
    }
  }
  return shown;
}

const INPUT_FIELDS = new Set(['key', 'value', 'headers', 'partition', 'timestamp', 'keyEncoding', 'valueEncoding', 'topic', 'offset']);

/**
 * One line of JSON-lines input: `{"key", "value", "headers"?, "partition"?, "timestamp"?}`, as
 * `sluice consume` prints them (its `topic` and `offset` are ignored). A missing key or value is
 * null. Throws a {@link RecordInputError} naming the line and the problem.
 */
export function parseJsonLine(text: string, lineNumber: number, formats: { key: DataFormat; value: DataFormat }): InputRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RecordInputError(lineNumber, `not JSON (${(err as Error).message}); write one JSON object a line, or pass --format text for plain lines.`, { cause: err });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new RecordInputError(lineNumber, 'must be a JSON object like {"key": "k1", "value": {"n": 1}, "headers": {"h": "v"}}.');
  }
  const line = parsed as Record<string, unknown>;
  const unknown = Object.keys(line).filter((k) => !INPUT_FIELDS.has(k));
  if (unknown.length > 0) throw new RecordInputError(lineNumber, `unknown field(s) ${unknown.join(', ')}; a record has key, value, headers, partition and timestamp.`);
  const encoding = (field: 'keyEncoding' | 'valueEncoding', format: DataFormat): DataFormat => {
    const marked = line[field];
    if (marked === undefined) return format;
    if (marked !== 'base64') throw new RecordInputError(lineNumber, `${field} must be "base64" when given, not ${JSON.stringify(marked)}.`);
    return 'base64';
  };
  return {
    key: toBytes(line.key ?? null, encoding('keyEncoding', formats.key), 'key', lineNumber),
    value: toBytes(line.value ?? null, encoding('valueEncoding', formats.value), 'value', lineNumber),
    headers: toHeaders(line.headers, lineNumber),
    ...optionalInteger(line, 'partition', lineNumber),
    ...optionalInteger(line, 'timestamp', lineNumber),
  };
}

/** One plain line: the value, or with a separator, the key, the separator and the value. */
export function parseTextLine(text: string, lineNumber: number, formats: { key: DataFormat; value: DataFormat }, keySeparator?: string): InputRecord {
  if (keySeparator === undefined) return { key: null, value: toBytes(text, formats.value, 'value', lineNumber), headers: [] };
  const at = text.indexOf(keySeparator);
  if (at < 0) throw new RecordInputError(lineNumber, `no key separator ${JSON.stringify(keySeparator)} in the line; write key${keySeparator}value.`);
  return {
    key: toBytes(text.slice(0, at), formats.key, 'key', lineNumber),
    value: toBytes(text.slice(at + keySeparator.length), formats.value, 'value', lineNumber),
    headers: [],
  };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A key or value of the input as bytes: strings as UTF-8 (or base64), other JSON as its text. */
function toBytes(value: unknown, format: DataFormat, field: string, lineNumber: number): Buffer | null {
  if (value === null) return null;
  if (format === 'base64') {
    if (typeof value !== 'string' || !BASE64.test(value)) throw new RecordInputError(lineNumber, `the ${field} must be a base64 string (as --${field}-format base64 says).`);
    return Buffer.from(value, 'base64');
  }
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (format === 'text') throw new RecordInputError(lineNumber, `the ${field} must be a string (as --${field}-format text says), not ${JSON.stringify(value)}.`);
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function toHeaders(headers: unknown, lineNumber: number): RecordHeader[] {
  if (headers === undefined || headers === null) return [];
  if (typeof headers !== 'object' || Array.isArray(headers)) throw new RecordInputError(lineNumber, 'headers must be an object of name: value.');
  const result: RecordHeader[] = [];
  for (const [name, given] of Object.entries(headers)) {
    for (const value of Array.isArray(given) ? given : [given]) {
      if (typeof value === 'string') result.push({ [name]: Buffer.from(value, 'utf8') });
      else if (value && typeof value === 'object' && typeof (value as { base64?: unknown }).base64 === 'string' && BASE64.test((value as { base64: string }).base64)) {
        result.push({ [name]: Buffer.from((value as { base64: string }).base64, 'base64') });
      } else {
        throw new RecordInputError(lineNumber, `header "${name}" must be a string, {"base64": "..."} or an array of them.`);
      }
    }
  }
  return result;
}

function optionalInteger(line: Record<string, unknown>, field: 'partition' | 'timestamp', lineNumber: number): { partition?: number; timestamp?: number } {
  const value = line[field];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RecordInputError(lineNumber, `${field} must be a non-negative integer${field === 'timestamp' ? ' (milliseconds since the epoch)' : ''}, not ${JSON.stringify(value)}.`);
  }
  return { [field]: value };
}

/** `name=value` header flags as headers for every record. */
export function headerFlags(assignments: Record<string, string>): RecordHeader[] {
  return Object.entries(assignments).map(([name, value]) => ({ [name]: Buffer.from(value, 'utf8') }));
}
