import type { Codec } from './codec.ts';

/**
 * Key encodings whose byte order is the order of the values, so range and prefix scans over a
 * store follow it. Strings: UTF-8 (byte order is code point order). Numbers: an 8-byte
 * big-endian double with the sign bit flipped for positives and every bit flipped for
 * negatives, so -Infinity < … < -0 = 0 < … < Infinity byte-wise.
 */
export const orderedString: Codec<string> = {
  serialize: (value) => (value === null || value === undefined ? null : Buffer.from(value, 'utf8')),
  deserialize: (data) => (data === null ? (null as unknown as string) : data.toString('utf8')),
};

export const orderedNumber: Codec<number> = {
  serialize(value) {
    if (value === null || value === undefined) return null;
    const buffer = Buffer.allocUnsafe(8);
    buffer.writeDoubleBE(value === 0 ? 0 : value); // -0 sorts with 0
    if (buffer[0]! & 0x80) for (let i = 0; i < 8; i++) buffer[i] = ~buffer[i]! & 0xff;
    else buffer[0] = buffer[0]! | 0x80;
    return buffer;
  },
  deserialize(data) {
    if (data === null) return null as unknown as number;
    const buffer = Buffer.from(data);
    if (buffer[0]! & 0x80) buffer[0] = buffer[0]! & 0x7f;
    else for (let i = 0; i < 8; i++) buffer[i] = ~buffer[i]! & 0xff;
    return buffer.readDoubleBE(0);
  },
};
