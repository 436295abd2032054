import { QueryError } from './query-error.ts';

/** Where the previous page of a scan ended: its last key, and the partition that entry came from. */
export interface ScanPosition {
  key: Buffer;
  /** Absent in cursors made before entries were ordered by partition after key. */
  partition?: number;
}

/**
 * The cursor of a scan's next page: opaque to clients, it names the store, the last key returned
 * and its partition (a store not partitioned by key may hold one key in several partitions:
 * entries come in key order, then partition order, and the next page starts after this one).
 * base64url of a small JSON object.
 */
export function encodeCursor(store: string, lastKey: Buffer, partition?: number): string {
  return Buffer.from(JSON.stringify({ s: store, a: lastKey.toString('base64'), ...(partition === undefined ? {} : { p: partition }) })).toString('base64url');
}

/** Where a cursor resumes; a cursor that is not one of ours, or another store's, is a 400. */
export function decodeCursor(store: string, cursor: string): ScanPosition {
  const bad = (why: string) => QueryError.badRequest('bad-cursor', `The cursor is not valid here (${why}); pass the "next" value of the previous page unchanged.`);
  if (cursor.length > 16_384 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('unreadable');
  }
  const { s, a, p } = (parsed ?? {}) as { s?: unknown; a?: unknown; p?: unknown };
  if (typeof s !== 'string' || typeof a !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(a)) throw bad('unreadable');
  if (p !== undefined && !(typeof p === 'number' && Number.isSafeInteger(p) && p >= 0)) throw bad('unreadable');
  if (s !== store) throw bad(`it belongs to store "${s.slice(0, 100)}"`);
  return { key: Buffer.from(a, 'base64'), ...(p === undefined ? {} : { partition: p }) };
}
