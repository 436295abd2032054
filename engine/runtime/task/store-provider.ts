import { ApplicationError, IllegalStateError } from '../../errors.ts';
import type { StoreProvider } from '../../processors/processor.ts';
import type { CachingStore } from '../../../state/caching-store.ts';
import type { KeyValueStore } from '../../../state/key-value-store.ts';
import type { TaskState } from './task-state.ts';

/**
 * The task's stores as its processors see them (none before `start` activated them); `get` also
 * gives the global tables' stores, read-only.
 */
export function storeProvider(taskId: string, state: TaskState | undefined, globals?: (name: string) => KeyValueStore<unknown, unknown> | undefined): StoreProvider {
  const stateOf = (name: string): TaskState => {
    if (!state) throw new ApplicationError(`Task ${taskId} has no store "${name}".`);
    return state;
  };
  const active = (name: string) => stateOf(name).store(name);
  return {
    get: <K, V>(name: string) => (globals?.(name) ?? active(name).store) as unknown as KeyValueStore<K, V>,
    cache: <K, V>(name: string) => {
      const store = active(name);
      if (store.expiring) throw new IllegalStateError(`Store "${name}" has a TTL; its updates cannot be listened to, only read.`);
      return store.cache as unknown as CachingStore<K, V>;
    },
    restored: <K, V>(name: string) => stateOf(name).restoredEntries(name) as Array<[K, V]>,
    windowTimeBound: (name: string) => stateOf(name).windowTimeBound(name),
    keyBytes: <K>(name: string, key: K) => {
      const { spec } = active(name);
      const bytes = spec.keySerde.serialize(key, spec.changelogTopic);
      if (bytes === null) throw new IllegalStateError(`Store "${name}" writes no bytes for this key (a null key).`);
      return bytes;
    },
  };
}
