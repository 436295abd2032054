import type { Codec } from '../../state/codec.ts';
import { UsageError } from '../errors.ts';
import type { Serde } from './serde-interface.ts';
import type { BindableSerde } from './windowed.ts';

/**
 * The formats of a foreign-key join's topics and stores: subscriptions (a row of the left table
 * asking for the right table's row of its foreign key), responses (that row, or none, sent back
 * to the left row's partition) and the subscription store's keys (the foreign key, then the left
 * row's key, so one foreign key's subscriptions lie together).
 */

/** What a subscription asks of the right table's side (Kafka Streams' instructions). */
export const Instruction = {
  /** Forget the subscription; send nothing (the row moved to another foreign key). */
  DeleteNoPropagate: 0,
  /** Forget the subscription and send a null response (the left row was deleted). */
  DeleteAndPropagate: 1,
  /** Keep it and send the right row, or a null response when there is none. */
  PropagateNullIfNone: 2,
  /** Keep it and send the right row only if there is one. */
  PropagateOnlyIfAvailable: 3,
} as const;
export type Instruction = (typeof Instruction)[keyof typeof Instruction];

export interface Subscription<K> {
  /** The hash of the left row's value when it was sent (null: the row was deleted). */
  readonly hash: Buffer | null;
  readonly instruction: Instruction;
  /** The left row's key. */
  readonly key: K;
}

export interface SubscriptionResponse<VR> {
  /** The hash the subscription carried: the left side drops a response to a value it no longer has. */
  readonly hash: Buffer | null;
  /** The right table's row, or null. */
  readonly value: VR | null;
}

/** The left row's key and the foreign key it subscribes to. */
export interface CombinedKey<KO, K> {
  readonly foreignKey: KO;
  readonly key: K;
}

const HASH_BYTES = 16;

/** A serde over inner serdes that default to the application's key or value serde. */
function overDefaults<T>(name: string, inners: Array<[Serde<unknown> | undefined, 'key' | 'value']>, build: (serdes: Array<Codec<unknown>>) => Codec<T>): BindableSerde<T> {
  const full = `${name}(${inners.map(([s, part]) => s?.name ?? `default ${part}`).join(', ')})`;
  const bind: BindableSerde<T>['bind'] = (_fallback, defaults) => {
    const resolved = inners.map(([s, part]) => s ?? defaults?.[part]);
    return resolved.every((s) => s !== undefined) ? overDefaults(name, resolved.map((s, i) => [s, inners[i]![1]]), build) : undefined;
  };
  if (inners.some(([s]) => s === undefined)) {
    const unbound = (): never => {
      throw new UsageError(`The ${full} serde lacks an inner serde: pass it, or set the application's default.`);
    };
    return { name: full, serialize: unbound, deserialize: unbound, bind };
  }
  const codec = build(inners.map(([s]) => s!));
  return { name: full, serialize: (v, topic) => codec.serialize(v, topic), deserialize: (d, topic) => codec.deserialize(d, topic), bind };
}

function cutShort(what: string, length: number): never {
  throw new UsageError(`A foreign-key join's ${what} of ${length} bytes is cut short: it was not written by a foreign-key join.`);
}

/** The instruction (1 byte), the hash (a presence byte and 16 bytes), then the left row's key. */
export function subscriptionSerde<K>(key?: Serde<K>): BindableSerde<Subscription<K>> {
  return overDefaults('subscription', [[key as Serde<unknown>, 'key']], ([keys]) => ({
    serialize(subscription, topic) {
      if (subscription === null || subscription === undefined) return null;
      const keyBytes = keys!.serialize(subscription.key, topic) ?? Buffer.alloc(0);
      return Buffer.concat([Buffer.from([subscription.instruction]), hashBytes(subscription.hash), keyBytes]);
    },
    deserialize(data, topic) {
      if (data === null) return null as unknown as Subscription<K>;
      if (data.length < 2 + HASH_BYTES) cutShort('subscription', data.length);
      return { instruction: data[0] as Instruction, hash: readHash(data, 1), key: keys!.deserialize(data.subarray(2 + HASH_BYTES), topic) as K };
    },
  }));
}

/** The hash (a presence byte and 16 bytes), then the right row's value (absent: null). */
export function responseSerde<VR>(value?: Serde<VR>): BindableSerde<SubscriptionResponse<VR>> {
  return overDefaults('subscription-response', [[value as Serde<unknown>, 'value']], ([values]) => ({
    serialize(response, topic) {
      if (response === null || response === undefined) return null;
      const valueBytes = response.value === null ? null : values!.serialize(response.value, topic);
      return Buffer.concat([hashBytes(response.hash), Buffer.from([valueBytes === null ? 0 : 1]), valueBytes ?? Buffer.alloc(0)]);
    },
    deserialize(data, topic) {
      if (data === null) return null as unknown as SubscriptionResponse<VR>;
      if (data.length < 2 + HASH_BYTES) cutShort('response', data.length);
      return { hash: readHash(data, 0), value: data[1 + HASH_BYTES] === 0 ? null : (values!.deserialize(data.subarray(2 + HASH_BYTES), topic) as VR) };
    },
  }));
}

/** The foreign key's length (4 bytes) and bytes, then the left row's key: a foreign key's subscriptions share a prefix. */
export function combinedKeySerde<KO, K>(foreignKey?: Serde<KO>, key?: Serde<K>): BindableSerde<CombinedKey<KO, K>> {
  return overDefaults('combined-key', [[foreignKey as Serde<unknown>, 'key'], [key as Serde<unknown>, 'key']], ([foreignKeys, keys]) => ({
    serialize(combined, topic) {
      if (combined === null || combined === undefined) return null;
      const fk = foreignKeys!.serialize(combined.foreignKey, topic) ?? Buffer.alloc(0);
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32BE(fk.length, 0);
      return Buffer.concat([length, fk, keys!.serialize(combined.key, topic) ?? Buffer.alloc(0)]);
    },
    deserialize(data, topic) {
      if (data === null) return null as unknown as CombinedKey<KO, K>;
      if (data.length < 4 || data.length < 4 + data.readUInt32BE(0)) cutShort('subscription key', data.length);
      const end = 4 + data.readUInt32BE(0);
      return { foreignKey: foreignKeys!.deserialize(data.subarray(4, end), topic) as KO, key: keys!.deserialize(data.subarray(end), topic) as K };
    },
  }));
}

/** How many leading bytes of a combined key are its foreign key's (its length and bytes). */
export function foreignKeyPrefixLength(combined: Buffer): number {
  return 4 + combined.readUInt32BE(0);
}

function hashBytes(hash: Buffer | null): Buffer {
  const bytes = Buffer.alloc(1 + HASH_BYTES);
  if (hash !== null) {
    bytes[0] = 1;
    hash.copy(bytes, 1, 0, HASH_BYTES);
  }
  return bytes;
}

function readHash(data: Buffer, at: number): Buffer | null {
  return data[at] === 0 ? null : Buffer.from(data.subarray(at + 1, at + 1 + HASH_BYTES));
}
