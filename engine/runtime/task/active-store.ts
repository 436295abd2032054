import type { BytesStore } from '../../../state/bytes-store.ts';
import { CachingStore } from '../../../state/caching-store.ts';
import { ChangeLoggingStore } from '../../../state/change-logging-store.ts';
import { ExpiringStore, stampedCodec } from '../../../state/expiring-store.ts';
import type { KeyValueStore } from '../../../state/key-value-store.ts';
import { MeteredStore } from '../../../state/metered-store.ts';
import type { CompiledStore } from '../../topology/compiled.ts';
import type { RecordOutput } from '../record-output.ts';

/**
 * A store as a running task uses it: the layers stacked over its LevelDB, from the top:
 * metering, expiry (a store with a TTL), the write-back cache, change-logging (unless the
 * store's changelog is its table's own source topic).
 */
export interface ActiveStore {
  readonly spec: CompiledStore;
  /** What processors read and write. */
  readonly store: KeyValueStore<unknown, unknown>;
  /** The cache, flushed at each commit; its flush listener passes a table's updates on. */
  readonly cache: CachingStore<unknown, unknown>;
  /** The expiry layer of a store with a TTL. */
  readonly expiring: ExpiringStore<unknown, unknown> | undefined;
}

export interface StackOptions {
  /** Where changelog records go. */
  producer: RecordOutput;
  /** Asked for an early commit when the cache holds many changes. */
  onPressure: () => void;
  /** The store's clock for expiry (the task's stream time). */
  now: () => number;
  /** The cache passes each write down at once, whatever the spec says. */
  writeThrough: boolean;
}

/** Stacks a store's layers over its bytes (the LevelDB, as restored). */
export function stackLayers(spec: CompiledStore, partition: number, bytes: BytesStore, options: StackOptions): ActiveStore {
  const { producer, onPressure, now, writeThrough } = options;
  let below: BytesStore = bytes;
  if (!spec.sourceChangelog) {
    below = new ChangeLoggingStore(bytes, {
      send: (key, value, timestamp) => producer.send({ topic: spec.changelogTopic, partition, key, value, timestamp }),
    });
  }
  const enabled = spec.caching && !writeThrough;
  const maxEntries = spec.readCache;
  if (spec.ttlMs === undefined) {
    const cache = new CachingStore(below, spec.keySerde, spec.valueSerde, spec.changelogTopic, { enabled, onPressure, maxEntries });
    return { spec, cache, store: new MeteredStore(cache), expiring: undefined };
  }
  const stamped = new CachingStore(below, spec.keySerde, stampedCodec(spec.valueSerde), spec.changelogTopic, { enabled, onPressure, maxEntries });
  const expiring = new ExpiringStore(stamped, { ttlMs: spec.ttlMs, now });
  return { spec, cache: stamped as CachingStore<unknown, unknown>, store: new MeteredStore(expiring), expiring };
}
