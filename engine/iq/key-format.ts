import { SluiceError } from '../errors.ts';
import type { Serde } from '../serde/serde.ts';

/** Serdes whose keys are numbers: a URL key must be a decimal number for them. */
const NUMERIC = new Set(['double', 'int32', 'int64', 'sortable-number']);

/** A key from a URL cannot be turned into the store's key type (answered 400 `bad-key`). */
export class KeyFormatError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_KEY_FORMAT', message);
  }
}

/**
 * How keys written as text (in a URL) become a store's keys, and how keys and values are shown
 * in JSON. By the store's key serde: `string` takes the text as it is; the number serdes a
 * decimal number; `bytes` base64; `json` (and any other serde) the text parsed as JSON when it
 * is JSON, else the text as a string, so `user-1` and `"user-1"` are the same key and `"42"`
 * asks for the string where `42` asks for the number.
 */
export function parseKey(serde: Serde<unknown>, text: string): unknown {
  if (serde.name === 'string') return text;
  if (NUMERIC.has(serde.name)) {
    const value = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(value)) throw new KeyFormatError(`"${text.slice(0, 64)}" is not a number, and keys of this store are numbers (${serde.name})`);
    if (serde.name !== 'double' && serde.name !== 'sortable-number' && !Number.isSafeInteger(value)) {
      throw new KeyFormatError(`"${text.slice(0, 64)}" is not an integer, and keys of this store are integers (${serde.name})`);
    }
    if (serde.name === 'int32' && (value < -(2 ** 31) || value >= 2 ** 31)) throw new KeyFormatError(`${value} is outside the int32 range`);
    return value;
  }
  if (serde.name === 'bytes') {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new KeyFormatError('keys of this store are bytes, given as base64');
    return Buffer.from(text, 'base64');
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A key or value as JSON: bytes as base64, everything else as it is. */
export function toJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return value;
}

/** Inverse of {@link toJson} for a store's keys: what a peer's JSON answer stands for. */
export function fromJson(serde: Serde<unknown>, json: unknown): unknown {
  if (serde.name === 'bytes' && typeof json === 'string') return Buffer.from(json, 'base64');
  return json;
}

/** The key's bytes, or a {@link KeyFormatError} when the serde refuses it. */
export function keyBytes(serde: Serde<unknown>, key: unknown, topic: string): Buffer {
  let bytes: Buffer | null;
  try {
    bytes = serde.serialize(key, topic);
  } catch (err) {
    throw new KeyFormatError(`the key cannot be written with this store's key serde (${serde.name}): ${(err as Error).message}`);
  }
  if (bytes === null) throw new KeyFormatError('a store has no null key');
  return bytes;
}
