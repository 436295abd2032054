import type { Codec } from '../../state/codec.ts';
import { readTime, writeTime } from '../../state/window/windowed-keys.ts';
import { UsageError } from '../errors.ts';
import type { Serde } from './serde-interface.ts';
import { over, type BindableSerde } from './windowed.ts';

/**
 * The formats of a stream-stream join's stores: each stream's records by key and timestamp (a
 * list, as several records may share both), and the records a left or outer join holds until
 * their window closes, ordered by timestamp, then side, then key, as Kafka Streams orders them.
 */

/** Values that share a key and a timestamp, in the order they came: a count, then each value's length and bytes. */
export function valueListSerde<V>(inner?: Serde<V>): BindableSerde<V[]> {
  return over('list', inner, (values) => listCodec(values));
}

function listCodec<V>(values: Codec<V>): Codec<V[]> {
  return {
    serialize(list, topic) {
      if (list === null || list === undefined) return null;
      const parts = list.map((value) => values.serialize(value, topic) ?? Buffer.alloc(0));
      const bytes = Buffer.allocUnsafe(4 + parts.reduce((sum, part) => sum + 4 + part.length, 0));
      bytes.writeUInt32BE(parts.length, 0);
      let at = 4;
      for (const part of parts) {
        bytes.writeUInt32BE(part.length, at);
        part.copy(bytes, at + 4);
        at += 4 + part.length;
      }
      return bytes;
    },
    deserialize(data, topic) {
      if (data === null) return null as unknown as V[];
      const fail = (): never => {
        throw new UsageError(`A join store's list of ${data.length} bytes is cut short: it was not written by a join.`);
      };
      if (data.length < 4) fail();
      const list: V[] = [];
      let at = 4;
      for (let count = data.readUInt32BE(0); count > 0; count--) {
        if (at + 4 > data.length) fail();
        const end = at + 4 + data.readUInt32BE(at);
        if (end > data.length) fail();
        list.push(values.deserialize(data.subarray(at + 4, end), topic));
        at = end;
      }
      return list;
    },
  };
}

/** A record a left or outer join holds: its key, its timestamp and which stream it came from. */
export interface UnmatchedKey<K> {
  readonly key: K;
  readonly timestamp: number;
  readonly left: boolean;
}

/** The timestamp (8 bytes, big-endian), the side (1 for left, 0 for right) and the key's bytes: byte order is time order. */
export function unmatchedKeySerde<K>(inner?: Serde<K>): BindableSerde<UnmatchedKey<K>> {
  return over('unmatched-key', inner, (keys) => ({
    serialize(held, topic) {
      if (held === null || held === undefined) return null;
      const key = keys.serialize(held.key, topic) ?? Buffer.alloc(0);
      const bytes = Buffer.allocUnsafe(9 + key.length);
      writeTime(bytes, held.timestamp, 0);
      bytes[8] = held.left ? 1 : 0;
      key.copy(bytes, 9);
      return bytes;
    },
    deserialize(data, topic) {
      if (data === null) return null as unknown as UnmatchedKey<K>;
      if (data.length < 9) throw new UsageError(`A held join record's key has at least 9 bytes and this one has ${data.length}: it was not written by a join.`);
      return { timestamp: readTime(data, 0), left: data[8] === 1, key: keys.deserialize(data.subarray(9), topic) };
    },
  }));
}

/** The held records of one key, timestamp and side: the left stream's values or the right's. */
export interface UnmatchedValues<VL, VR> {
  readonly left?: VL[];
  readonly right?: VR[];
}

/** A side byte (1 left, 0 right), then that side's values as a list. Unbound sides take the application's default value serde. */
export function unmatchedValueSerde<VL, VR>(left?: Serde<VL>, right?: Serde<VR>): BindableSerde<UnmatchedValues<VL, VR>> {
  const name = `unmatched(${left?.name ?? 'default'}, ${right?.name ?? 'default'})`;
  const bind = (fallback: Serde<unknown> | undefined) => {
    const l = (left ?? fallback) as Serde<VL> | undefined;
    const r = (right ?? fallback) as Serde<VR> | undefined;
    return l === undefined || r === undefined ? undefined : unmatchedValueSerde(l, r);
  };
  if (left === undefined || right === undefined) {
    const unbound = (): never => {
      throw new UsageError(`The ${name} serde has no value serde for each side: pass them, or use it where the application's default serde applies.`);
    };
    return { name, serialize: unbound, deserialize: unbound, bind };
  }
  const lists = { left: listCodec(left), right: listCodec(right) };
  return {
    name,
    serialize(held, topic) {
      if (held === null || held === undefined) return null;
      const list = held.left !== undefined ? lists.left.serialize(held.left, topic) : lists.right.serialize(held.right ?? [], topic);
      return Buffer.concat([Buffer.from([held.left !== undefined ? 1 : 0]), list ?? Buffer.alloc(0)]);
    },
    deserialize(data, topic) {
      if (data === null) return null as unknown as UnmatchedValues<VL, VR>;
      if (data.length < 1) throw new UsageError('A held join record has at least 1 byte (its side) and this one has none: it was not written by a join.');
      const rest = data.subarray(1);
      return data[0] === 1 ? { left: lists.left.deserialize(rest, topic) } : { right: lists.right.deserialize(rest, topic) };
    },
    bind: () => unmatchedValueSerde(left, right),
  };
}
