import { QueryError } from './query-error.ts';

/**
 * The cursor of a scan's next page: opaque to clients, it names the store and the last key
 * returned (the next page starts after it). base64url of a small JSON object.
 */
export function encodeCursor(store: string, lastKey: Buffer): string {
  return Buffer.from(JSON.stringify({ s: store, a: lastKey.toString('base64') })).toString('base64url');
}

/** The key a cursor resumes after; a cursor that is not one of ours, or another store's, is a 400. */
export function decodeCursor(store: string, cursor: string): Buffer {
  const bad = (why: string) => QueryError.badRequest('bad-cursor', `The cursor is not valid here (${why}); pass the "next" value of the previous page unchanged.`);
  if (cursor.length > 16_384 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('unreadable');
  }
  const { s, a } = (parsed ?? {}) as { s?: unknown; a?: unknown };
  if (typeof s !== 'string' || typeof a !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(a)) throw bad('unreadable');
  if (s !== store) throw bad(`it belongs to store "${s.slice(0, 100)}"`);
  return Buffer.from(a, 'base64');
}
