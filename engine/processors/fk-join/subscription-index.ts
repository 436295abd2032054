import type { StoreProvider } from '../processor.ts';
import type { CombinedKey } from '../../serde/fk-join-serdes.ts';
import { foreignKeyPrefixLength } from '../../serde/fk-join-serdes.ts';

/**
 * The subscriptions a task's store holds, per foreign key, in memory: a change of a right-table
 * row must reach every left row subscribed to it on the per-record path, where a LevelDB prefix
 * scan (asynchronous) cannot run. Built from the store's entries when the task starts (the store
 * is preloaded) and kept up to date with every subscription kept or forgotten. Per foreign key,
 * the left rows' keys in the byte order of their encoding, as Kafka Streams' prefix scan finds them.
 */
export class SubscriptionIndex<KO, K> {
  private readonly stores: StoreProvider;
  private readonly store: string;
  /** A store keyed by the foreign key alone: its key serde gives a foreign key's bytes. */
  private readonly foreignStore: string;
  /** Foreign key bytes (latin1) → left key bytes (latin1) → the combined key. */
  private readonly byForeignKey = new Map<string, Map<string, CombinedKey<KO, K>>>();

  constructor(stores: StoreProvider, store: string, foreignStore: string) {
    this.stores = stores;
    this.store = store;
    this.foreignStore = foreignStore;
    for (const [combined] of stores.restored<CombinedKey<KO, K>, unknown>(store)) this.add(combined);
  }

  add(combined: CombinedKey<KO, K>): void {
    const [foreign, key] = this.ids(combined);
    let keys = this.byForeignKey.get(foreign);
    if (keys === undefined) this.byForeignKey.set(foreign, (keys = new Map()));
    keys.set(key, combined);
  }

  remove(combined: CombinedKey<KO, K>): void {
    const [foreign, key] = this.ids(combined);
    const keys = this.byForeignKey.get(foreign);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.byForeignKey.delete(foreign);
  }

  /** The subscriptions to a foreign key, in the byte order of the left rows' keys. */
  subscribers(foreignKey: KO): Array<CombinedKey<KO, K>> {
    const keys = this.byForeignKey.get(this.stores.keyBytes(this.foreignStore, foreignKey).toString('latin1'));
    if (keys === undefined) return [];
    return [...keys.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, combined]) => combined);
  }

  private ids(combined: CombinedKey<KO, K>): [foreign: string, key: string] {
    const bytes = this.stores.keyBytes(this.store, combined);
    const split = foreignKeyPrefixLength(bytes);
    return [bytes.subarray(4, split).toString('latin1'), bytes.subarray(split).toString('latin1')];
  }
}
