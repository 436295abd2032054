import { InvalidRecordError } from '../errors.ts';
import type { RecordHeader } from '../kafka/records.ts';
import type { Forward, ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/** Where a gate sends what passes and, if wired, what it turns away. */
export interface GateRoutes {
  /** The node that receives the records that pass. */
  pass: string;
  /** The node that receives the records turned away; dropped when undefined. */
  reject: string | undefined;
}

/**
 * Headers a record turned away by `dedupe` or `versionGate` carries on the rejected stream,
 * besides its own: why (`duplicate` or `stale`) and what the gate had seen.
 */
export const RejectedHeaders = {
  /** `duplicate` (dedupe) or `stale` (versionGate). */
  reason: 'sluice.rejected.reason',
  /** dedupe: the record's id, seen before within the time to live. */
  id: 'sluice.rejected.id',
  /** versionGate: the record's version. */
  version: 'sluice.rejected.version',
  /** versionGate: the last version of the key that passed, which the record's is not newer than. */
  lastVersion: 'sluice.rejected.last-version',
} as const;

/**
 * `dedupe`: a record whose id was seen within the store's time to live is a duplicate. The
 * store (with a TTL) maps each id to the time it was first seen; records must be keyed so that
 * duplicates share a partition.
 */
export function dedupe(store: string, id: (key: unknown, value: unknown, context: RecordContext) => string, routes: GateRoutes): ProcessorSupplier {
  return ({ stores, children, context, name }) => {
    const seen = stores.get<string, number>(store);
    const pass = children.get(routes.pass)!;
    const reject = routes.reject === undefined ? undefined : children.get(routes.reject);
    return (key, value) => {
      const eventId = synchronous(id(key, value, context), name, 'id function');
      if (typeof eventId !== 'string' || eventId === '') throw new InvalidRecordError(name, `the record has no id (the id function returned ${JSON.stringify(eventId)})`);
      if (seen.get(eventId) !== undefined) {
        if (reject) forwardWith(context, reject, key, value, [{ [RejectedHeaders.reason]: 'duplicate' }, { [RejectedHeaders.id]: eventId }]);
        return;
      }
      seen.put(eventId, context.timestamp, { timestamp: context.timestamp, headers: context.headers });
      pass(key, value);
    };
  };
}

/**
 * `versionGate`: per key, a record passes only when its version is newer than the last one that
 * passed, so redelivered or reordered events never take a read model back. The store maps each
 * key to the last version that passed.
 */
export function versionGate(store: string, version: (key: unknown, value: unknown, context: RecordContext) => number, routes: GateRoutes): ProcessorSupplier {
  return ({ stores, children, context, name }) => {
    const applied = stores.get<unknown, number>(store);
    const pass = children.get(routes.pass)!;
    const reject = routes.reject === undefined ? undefined : children.get(routes.reject);
    return (key, value) => {
      const v = synchronous(version(key, value, context), name, 'version function');
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidRecordError(name, `the record has no version (the version function returned ${JSON.stringify(v)})`);
      if (key === null || key === undefined) throw new InvalidRecordError(name, 'the record has no key (versionGate keeps the last version per key)');
      const last = applied.get(key);
      if (last !== undefined && v <= last) {
        if (reject) {
          const headers: RecordHeader[] = [{ [RejectedHeaders.reason]: 'stale' }, { [RejectedHeaders.version]: String(v) }, { [RejectedHeaders.lastVersion]: String(last) }];
          forwardWith(context, reject, key, value, headers);
        }
        return;
      }
      applied.put(key, v, { timestamp: context.timestamp, headers: context.headers });
      pass(key, value);
    };
  };
}

/** Forwards a record with headers added to its own (only this forward: the context gets its headers back). */
function forwardWith(context: RecordContext, forward: Forward, key: unknown, value: unknown, added: RecordHeader[]): void {
  const saved = context.headers;
  context.headers = saved ? [...saved, ...added] : added;
  try {
    forward(key, value);
  } finally {
    context.headers = saved;
  }
}
