import type { ProcessorSupplier, RecordContext } from './processor.ts';

/** Where a gate sends what passes and, if wired, what it turns away. */
export interface GateRoutes {
  /** The node that receives the records that pass. */
  pass: string;
  /** The node that receives the records turned away; dropped when undefined. */
  reject: string | undefined;
}

/**
 * `dedupe`: a record whose id was seen within the store's time to live is a duplicate. The
 * store (with a TTL) maps each id to the time it was first seen; records must be keyed so that
 * duplicates share a partition.
 */
export function dedupe(store: string, id: (key: unknown, value: unknown, context: RecordContext) => string, routes: GateRoutes): ProcessorSupplier {
  return ({ stores, children, context }) => {
    const seen = stores.get<string, number>(store);
    const pass = children.get(routes.pass)!;
    const reject = routes.reject === undefined ? undefined : children.get(routes.reject);
    return (key, value) => {
      const eventId = id(key, value, context);
      if (typeof eventId !== 'string' || eventId === '') throw new TypeError(`dedupe: the record has no id (the id function returned ${JSON.stringify(eventId)})`);
      if (seen.get(eventId) !== undefined) {
        reject?.(key, value);
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
  return ({ stores, children, context }) => {
    const applied = stores.get<unknown, number>(store);
    const pass = children.get(routes.pass)!;
    const reject = routes.reject === undefined ? undefined : children.get(routes.reject);
    return (key, value) => {
      const v = version(key, value, context);
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`versionGate: the record has no version (the version function returned ${JSON.stringify(v)})`);
      if (key === null || key === undefined) throw new TypeError('versionGate: the record has no key');
      const last = applied.get(key);
      if (last !== undefined && v <= last) {
        reject?.(key, value);
        return;
      }
      applied.put(key, v, { timestamp: context.timestamp, headers: context.headers });
      pass(key, value);
    };
  };
}
