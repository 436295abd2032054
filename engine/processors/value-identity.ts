import { createHash } from 'node:crypto';

/**
 * A 16-byte hash of a value as the left side of a foreign-key join last sent it, to recognise a
 * response to a value the row no longer has (Kafka Streams hashes the serialized value; here the
 * value's canonical form: bytes as they are, anything else as JSON with object keys sorted, so
 * two values equal field for field hash alike whatever their key order).
 */
export function valueHash(value: unknown): Buffer {
  const hash = createHash('md5');
  if (Buffer.isBuffer(value)) hash.update(value);
  else hash.update(canonical(value) ?? 'undefined', 'utf8');
  return hash.digest();
}

/** Whether two keys are the same key (equal canonical forms): a foreign key that changed, a row regrouped within its group. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string | undefined {
  return JSON.stringify(value, (_, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Uint8Array)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
    }
    return v;
  });
}
