/**
 * The event envelope every scenario's events travel in (docs/scenarios.md, "The event
 * envelope"), and a validator that says what is wrong with a record that is not one. The record
 * key is the envelope's `aggregate_id`.
 */

import { stringifyJson } from 'sluice';
export interface EventEnvelope<T extends string = string, D extends object = Record<string, unknown>> {
  event_id: string;
  event_type: T;
  aggregate_type: string;
  aggregate_id: string;
  version: number;
  /** ISO 8601. */
  timestamp: string;
  correlation_id: string;
  causation_id: string | null;
  data: D;
}

/** A record checked against the envelope: the event, or what is wrong; always the original bytes. */
export type Checked<E> = { ok: true; event: E; raw: Buffer } | { ok: false; reason: string; raw: Buffer };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses and validates one record as an envelope whose `event_type` is one of `types` (any
 * non-empty string when omitted). Never throws.
 */
export function checkEnvelope<T extends string>(key: string | null, raw: Buffer | null, types?: readonly T[]): Checked<EventEnvelope<T>> {
  const bytes = raw ?? Buffer.alloc(0);
  const reject = (reason: string): Checked<EventEnvelope<T>> => ({ ok: false, reason, raw: bytes });
  if (raw === null) return reject('the record has no value');
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return reject('the value is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return reject('the value is not a JSON object');
  const e = value as Record<string, unknown>;
  const text = (field: string) => typeof e[field] === 'string' && (e[field] as string).length > 0;
  if (!text('event_id') || !UUID.test(e.event_id as string)) return reject('event_id must be a UUID');
  if (types ? !types.includes(e.event_type as T) : !text('event_type')) {
    return reject(`event_type must be ${types ? `one of ${types.join(', ')}` : 'a non-empty string'}; got ${stringifyJson(e.event_type)?.slice(0, 200)}`);
  }
  if (!text('aggregate_type')) return reject('aggregate_type is missing');
  if (!text('aggregate_id')) return reject('aggregate_id is missing');
  if (key !== e.aggregate_id) return reject(`the record key ${JSON.stringify(key)} is not the aggregate_id ${JSON.stringify(e.aggregate_id)}`);
  if (!Number.isInteger(e.version) || (e.version as number) < 1) return reject('version must be an integer of 1 or more');
  if (!text('timestamp') || !ISO_8601.test(e.timestamp as string) || Number.isNaN(Date.parse(e.timestamp as string))) {
    return reject('timestamp must be an ISO 8601 date-time');
  }
  if (!text('correlation_id')) return reject('correlation_id is missing');
  if (e.causation_id !== null && typeof e.causation_id !== 'string') return reject('causation_id must be a string or null');
  if (!e.data || typeof e.data !== 'object' || Array.isArray(e.data)) return reject('data must be an object');
  return { ok: true, event: e as unknown as EventEnvelope<T>, raw };
}

/**
 * Checks a record as an envelope of one of `types` whose data, when it names the aggregate in
 * `idField`, names the envelope's aggregate; anything wrong is thrown as `reject(reason)`.
 */
export function checkAggregateEvent<T extends string>(key: string | null, raw: Buffer | null, types: readonly T[], idField: string, reject: (reason: string) => Error): EventEnvelope<T> {
  const checked = checkEnvelope(key, raw, types);
  if (!checked.ok) throw reject(checked.reason);
  const id = checked.event.data[idField];
  if (id !== undefined && id !== checked.event.aggregate_id) throw reject(`data.${idField} is not the aggregate_id`);
  return checked.event;
}

/** The data's fields not in `known`, each as JSON text, over those of `base` (a read model's `extra`). */
export function extraFields(data: Record<string, unknown>, known: ReadonlySet<string>, base: Record<string, string>): Record<string, string> {
  const extra = { ...base };
  for (const [field, value] of Object.entries(data)) if (!known.has(field)) extra[field] = stringifyJson(value) ?? 'null';
  return extra;
}
