import { orderedNumber } from '../../state/key-encoding.ts';
import { SerdeError } from '../errors.ts';
import { AvroSerde, type AvroSerdeOptions } from './avro/avro-serde.ts';
import type { Serde } from './serde-interface.ts';
import { stringifyJson } from './stack-safe-json.ts';
import { sessionWindowedSerde, timeWindowedSerde } from './windowed.ts';

export type { Serde };

/** Builds a serde from two functions; `null` is passed through without calling them. */
export function serde<T>(name: string, serialize: (value: T, topic: string) => Buffer, deserialize: (data: Buffer, topic: string) => T): Serde<T> {
  return {
    name,
    serialize: (value, topic) => (value === null || value === undefined ? null : serialize(value, topic)),
    deserialize: (data, topic) => (data === null ? (null as T) : deserialize(data, topic)),
  };
}

const string = serde<string>(
  'string',
  (value) => Buffer.from(value, 'utf8'),
  (data) => data.toString('utf8'),
);

const bytes = serde<Buffer>(
  'bytes',
  (value) => value,
  (data) => data,
);

function json<T = unknown>(): Serde<T> {
  return serde<T>(
    'json',
    (value, topic) => {
      // JSON.stringify writes a promise as {}: a value an async callback returned, never the one meant.
      if (typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') {
        throw new SerdeError('json', topic, 'was given a promise to write (an async callback\'s result?), which JSON would write as {}; operators are synchronous (see "Callbacks are synchronous" in docs/dsl.md)');
      }
      // However deep: a value that parsed must be writable again (see stack-safe-json.ts).
      return Buffer.from(stringifyJson(value) as string, 'utf8');
    },
    (data, topic) => {
      try {
        return JSON.parse(data.toString('utf8')) as T;
      } catch (err) {
        throw new SerdeError('json', topic, `is not valid JSON (${(err as Error).message})`, err);
      }
    },
  );
}

/** An 8-byte big-endian IEEE 754 double, as Java's `DoubleSerializer`. */
const double = serde<number>(
  'double',
  (value) => {
    const buffer = Buffer.allocUnsafe(8);
    buffer.writeDoubleBE(value);
    return buffer;
  },
  (data, topic) => {
    if (data.length !== 8) throw new SerdeError('double', topic, `has ${data.length} bytes, a double has 8`);
    return data.readDoubleBE(0);
  },
);

/** A 4-byte big-endian signed integer, as Java's `IntegerSerializer`. */
const int32 = serde<number>(
  'int32',
  (value) => {
    const buffer = Buffer.allocUnsafe(4);
    buffer.writeInt32BE(value);
    return buffer;
  },
  (data, topic) => {
    if (data.length !== 4) throw new SerdeError('int32', topic, `has ${data.length} bytes, an int32 has 4`);
    return data.readInt32BE(0);
  },
);

/** An 8-byte big-endian signed integer, as Java's `LongSerializer`; values must be safe integers. */
const int64 = serde<number>(
  'int64',
  (value) => {
    if (!Number.isSafeInteger(value)) throw new SerdeError('int64', '', `cannot write ${value}: not a safe integer`);
    const buffer = Buffer.allocUnsafe(8);
    buffer.writeBigInt64BE(BigInt(value));
    return buffer;
  },
  (data, topic) => {
    if (data.length !== 8) throw new SerdeError('int64', topic, `has ${data.length} bytes, an int64 has 8`);
    const value = data.readBigInt64BE(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new SerdeError('int64', topic, `holds ${value}, beyond JavaScript's safe integers`);
    }
    return Number(value);
  },
);

/**
 * Numbers as 8 bytes whose byte order is numeric order: a key serde for stores scanned by
 * numeric range (not Java's `DoubleSerializer`; use `double()` on topics shared with Java).
 */
const sortableNumber = serde<number>(
  'sortable-number',
  (value) => orderedNumber.serialize(value, '')!,
  (data, topic) => {
    if (data.length !== 8) throw new SerdeError('sortable-number', topic, `has ${data.length} bytes, a sortable number has 8`);
    return orderedNumber.deserialize(data, topic);
  },
);

/** Avro in the Confluent wire format with a schema registry (see {@link AvroSerdeOptions}). */
function avroSerde<T = unknown>(options: AvroSerdeOptions = {}): Serde<T> {
  return new AvroSerde<T>(options);
}

/** The built-in serdes. */
export const Serdes = {
  string: () => string,
  bytes: () => bytes,
  json,
  /** Same as `double()`: JavaScript numbers as 8-byte doubles. */
  number: () => double,
  double: () => double,
  int32: () => int32,
  int64: () => int64,
  sortableNumber: () => sortableNumber,
  avro: avroSerde,
  /**
   * Keys of time or sliding windows in Kafka Streams' format (key bytes, then the window's start
   * as 8 bytes): `sizeMs` sets the end of a key read back.
   */
  timeWindowed: timeWindowedSerde,
  /** Keys of session windows in Kafka Streams' format (key bytes, the end, then the start). */
  sessionWindowed: sessionWindowedSerde,
  serde,
} as const;
