import { stampedCodec, type Stamped } from '../../state/expiring-store.ts';
import type { Codec } from '../../state/codec.ts';
import { windowedKeyFormat, type WindowedKey } from '../../state/window/windowed-keys.ts';
import { UsageError } from '../errors.ts';
import type { Serde } from './serde-interface.ts';

/**
 * A serde built over another that may be left to the application's default (a windowed key
 * over the default key serde): the compiler binds it once it knows that default.
 */
export interface BindableSerde<T> extends Serde<T> {
  /**
   * This serde over `fallback` where it was given no inner serde of its own (the default for the
   * part it serializes, key or value). `defaults` has both of the application's defaults, for a
   * serde over a key and a value (a join's subscription carries a key of the other table).
   */
  bind(fallback: Serde<unknown> | undefined, defaults?: DefaultSerdes): Serde<T> | undefined;
}

/** The application's default key and value serdes. */
export interface DefaultSerdes {
  key?: Serde<unknown>;
  value?: Serde<unknown>;
}

/** `serde`, or the application's `fallback` when none was given, bound if it needs the fallback. */
export function resolveSerde(serde: Serde<unknown> | undefined, fallback: Serde<unknown> | undefined, defaults?: DefaultSerdes): Serde<unknown> | undefined {
  if (serde === undefined) return fallback;
  return typeof (serde as Partial<BindableSerde<unknown>>).bind === 'function' ? (serde as BindableSerde<unknown>).bind(fallback, defaults) : serde;
}

/** A serde named `name(inner)` whose format `build` makes over `inner`, or over the default once bound (the compiler binds it). */
export function over<I, T>(name: string, inner: Serde<I> | undefined, build: (inner: Serde<I>) => Codec<T>): BindableSerde<T> {
  const full = `${name}(${inner?.name ?? 'default'})`;
  if (inner === undefined) {
    const unbound = (): never => {
      throw new UsageError(`The ${full} serde has no inner serde: pass one, or use it where the application's default serde applies.`);
    };
    return { name: full, serialize: unbound, deserialize: unbound, bind: (fallback) => (fallback === undefined ? undefined : over(name, fallback as Serde<I>, build)) };
  }
  const format = build(inner);
  return {
    name: full,
    serialize: (value, topic) => format.serialize(value, topic),
    deserialize: (data, topic) => format.deserialize(data, topic),
    ...(inner.prepare ? { prepare: (topic: string) => inner.prepare!(topic) } : {}),
    ...(inner.prefetch ? { prefetch: (data: Buffer | null, topic: string) => inner.prefetch!(data, topic) } : {}),
    bind: () => over(name, inner, build),
  };
}

/**
 * Keys of time (and sliding) windows in Kafka Streams' format (`WindowedSerdes`): the key's
 * bytes, then the window's start as 8 big-endian bytes; `sizeMs` gives the end of a key read
 * back. Without `inner`, over the application's default key serde.
 */
export function timeWindowedSerde<K>(inner?: Serde<K>, sizeMs?: number): BindableSerde<WindowedKey<K>> {
  return over('time-windowed', inner, (i) => windowedKeyFormat(i, 'time', sizeMs));
}

/** Keys of session windows in Kafka Streams' format: the key's bytes, the session's end, then its start. */
export function sessionWindowedSerde<K>(inner?: Serde<K>): BindableSerde<WindowedKey<K>> {
  return over('session-windowed', inner, (i) => windowedKeyFormat(i, 'session', undefined));
}

/** Values with the time of the record that last changed them (a windowed aggregate's timestamp). */
export function stampedSerde<V>(inner?: Serde<V>): BindableSerde<Stamped<V>> {
  return over('stamped', inner, (i) => stampedCodec(i));
}

/** An update a suppression buffer holds: the value (null: a deletion) and the record context it goes out with. */
export interface Buffered<V> {
  value: V | null;
  timestamp: number;
  headers?: Array<Record<string, string | Buffer>>;
}

/**
 * Buffered updates as bytes: the timestamp (8 bytes), the value's length (4 bytes, all ones for
 * null) and bytes in the inner serde, then the headers as JSON (byte values in base64).
 */
export function bufferedSerde<V>(inner?: Serde<V>): BindableSerde<Buffered<V>> {
  return over('buffered', inner, (values) => ({
    serialize(entry, topic) {
      if (entry === null || entry === undefined) return null;
      const value = entry.value === null ? null : values.serialize(entry.value, topic);
      const headers = entry.headers === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(entry.headers.map(encodeHeader)), 'utf8');
      const bytes = Buffer.allocUnsafe(12 + (value?.length ?? 0) + headers.length);
      bytes.writeDoubleBE(entry.timestamp, 0);
      bytes.writeUInt32BE(value === null ? 0xffffffff : value.length, 8);
      value?.copy(bytes, 12);
      headers.copy(bytes, 12 + (value?.length ?? 0));
      return bytes;
    },
    deserialize(data, topic) {
      if (data === null) return null as unknown as Buffered<V>;
      if (data.length < 12) throw new UsageError(`A buffered update has at least 12 bytes and this one has ${data.length}: it was not written by a suppression buffer.`);
      const length = data.readUInt32BE(8);
      const end = length === 0xffffffff ? 12 : 12 + length;
      const value = length === 0xffffffff ? null : values.deserialize(data.subarray(12, end), topic);
      const entry: Buffered<V> = { value, timestamp: data.readDoubleBE(0) };
      if (data.length > end) entry.headers = (JSON.parse(data.subarray(end).toString('utf8')) as EncodedHeader[]).map(decodeHeader);
      return entry;
    },
  }));
}

/** One header object: each of its names with its value, a string or bytes (in base64). */
type EncodedHeader = Array<[name: string, kind: 's' | 'b', value: string]>;

function encodeHeader(header: Record<string, string | Buffer>): EncodedHeader {
  return Object.entries(header).map(([name, value]) => (Buffer.isBuffer(value) ? [name, 'b', value.toString('base64')] : [name, 's', String(value)]));
}

function decodeHeader(encoded: EncodedHeader): Record<string, string | Buffer> {
  return Object.fromEntries(encoded.map(([name, kind, value]) => [name, kind === 'b' ? Buffer.from(value, 'base64') : value]));
}
