import type { RecordHeader } from '../kafka/records.ts';
import { serde, type Serde } from '../serde/serde.ts';
import type { WriteContext } from '../../state/key-value-store.ts';
import type { RecordContext } from './processor.ts';
import { stringifyJson } from '../serde/stack-safe-json.ts';

/**
 * A record an operator holds back to send on later (`prioritize`, `batch`): everything needed to
 * send it as it came, kept in a store so that a crash or a moved task loses nothing.
 */
export interface HeldRecord<K = unknown, V = unknown> {
  key: K;
  value: V;
  /** The record's timestamp; it goes out with it. */
  timestamp: number;
  /** The record's headers (correlation ids); they go out with it. */
  headers?: RecordHeader[];
  /** When it arrived, by the machine's clock (milliseconds since the epoch): windows and timeouts count from it. */
  arrivedAt: number;
}

const BYTES = '$bytes';

/**
 * Held records as JSON, with Buffers (byte values, header values) kept as Buffers. JSON rather
 * than the stream's serdes because a held record mixes the key, the value and the headers, and
 * because a stream's serdes are often unknown after `mapValues`; keys and values must be JSON
 * (or Buffers).
 */
export function heldRecordSerde<K, V>(): Serde<HeldRecord<K, V>> {
  return serde<HeldRecord<K, V>>(
    'held-record',
    (record) => {
      // A replacer makes JSON.stringify several times slower; most held records hold no bytes.
      const plain = stringifyJson(record)!;
      return Buffer.from(plain.includes('"type":"Buffer"') ? JSON.stringify(record, keepBytes) : plain, 'utf8');
    },
    (data) => {
      // Without bytes, no reviver: a reviver recurses, and a deep value must still read back.
      const text = data.toString('utf8');
      return JSON.parse(text, text.includes(`"${BYTES}"`) ? restoreBytes : undefined) as HeldRecord<K, V>;
    },
  );
}

function keepBytes(this: Record<string, unknown>, name: string, value: unknown): unknown {
  // `value` has been through Buffer#toJSON already; the holder still has the Buffer itself.
  const raw = this[name];
  return Buffer.isBuffer(raw) ? { [BYTES]: raw.toString('base64') } : value;
}

function restoreBytes(_name: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const encoded = (value as Record<string, unknown>)[BYTES];
    if (typeof encoded === 'string' && Object.keys(value).length === 1) return Buffer.from(encoded, 'base64');
  }
  return value;
}

/** The record in hand as a held record. */
export function holdRecord<K, V>(key: K, value: V, context: RecordContext, arrivedAt: number): HeldRecord<K, V> {
  return context.headers === undefined
    ? { key, value, timestamp: context.timestamp, arrivedAt }
    : { key, value, timestamp: context.timestamp, headers: context.headers, arrivedAt };
}

/** The write context of a held record: its store writes carry its time and headers. */
export function writeOf(record: { timestamp: number; headers?: RecordHeader[] }): WriteContext {
  return { timestamp: record.timestamp, headers: record.headers };
}

/**
 * Sends something with the context set to a held record's timestamp and headers, then puts the
 * context back: operators release held records while another record is in hand, and the
 * operator's siblings downstream of the same parent still read that record's context.
 */
export function sendingAs(context: RecordContext, restoreContext: (write: WriteContext | undefined) => void) {
  return (record: { timestamp: number; headers?: RecordHeader[] }, send: () => void): void => {
    const saved: WriteContext = { timestamp: context.timestamp, headers: context.headers };
    restoreContext(writeOf(record));
    try {
      send();
    } finally {
      restoreContext(saved);
    }
  };
}

/**
 * Forwards with the context's timestamp set to `timestamp` (its headers kept), then puts it back,
 * for a join whose output takes the later of two records' timestamps; at the context's own
 * timestamp it forwards as it is. No closure per call, unlike {@link sendingAs}.
 */
export function forwardingAt(context: RecordContext, restoreContext: (write: WriteContext | undefined) => void, next: (key: unknown, value: unknown) => void) {
  return (timestamp: number, key: unknown, value: unknown): void => {
    const own = context.timestamp;
    if (timestamp === own) {
      next(key, value);
      return;
    }
    const headers = context.headers;
    restoreContext({ timestamp, headers });
    try {
      next(key, value);
    } finally {
      restoreContext({ timestamp: own, headers });
    }
  };
}

/** A key as a string that is equal for equal keys (a Map key), whatever the key's type. */
export function keyIdentity(key: unknown): string {
  if (typeof key === 'string') return `s${key}`;
  if (Buffer.isBuffer(key)) return `b${key.toString('base64')}`;
  return `j${JSON.stringify(key)}`;
}
