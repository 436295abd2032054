import type { CompiledStore } from '../topology/compiled.ts';
import type { CommittedReader } from '../../state/committed-reader.ts';
import type { KnownInstance } from './directory.ts';
import type { LocalGlobalStore } from './global-queries.ts';
import { QueryError } from './query-error.ts';
import type { StaleSources } from './stale-reads.ts';

/** Where a task stands on this instance, for a query of one of its stores. */
export type LocalTask = { state: 'running'; reader: CommittedReader<unknown, unknown> } | { state: 'restoring' | 'absent' };

/** What queries need from the application they run in. */
export interface QueryHost {
  readonly instanceId: string;
  readonly stores: readonly CompiledStore[];
  /** The global tables' stores, whole on this instance. */
  readonly globalStores?: readonly LocalGlobalStore[];
  /** The store's partition count (that of its changelog), once known. */
  partitions(store: CompiledStore): number | undefined;
  local(taskId: string, store: string): LocalTask;
  /** The live instance that runs the task, as the directory knows it. */
  owner(taskId: string): KnownInstance | undefined;
  /** Where `?stale=true` lookups find copies that may be behind (standbys); none without standbys. */
  readonly stale?: StaleSources;
  /** Copies of tasks whose owner stopped cleanly that hold exactly what it committed (standbys). */
  readonly handedOver?: HandedOverCopies;
}

/**
 * Standby copies that answer for a task whose owner stopped cleanly and that no instance runs
 * yet: a copy at exactly the changelog positions of the owner's final commit holds what a
 * committed read would give, since nothing has written to the task's changelogs since.
 */
export interface HandedOverCopies {
  /** This instance's copy of the task's store, when the task was handed over and the copy is at the hand-over's positions. */
  copy(taskId: string, store: string): CommittedReader<unknown, unknown> | undefined;
  /** The other live instances that keep a standby of the task, when it was handed over. */
  holders(taskId: string): KnownInstance[];
}

/** Why a partition cannot be read right now. */
export type UnavailableReason = 'restoring' | 'rebalancing' | 'not-owner' | 'owner-unreachable';

/** A partition that cannot be read right now, and why. */
export interface Unavailable {
  store: string;
  partition: number;
  reason: UnavailableReason;
  instance?: string;
}

/** Where one partition of a store is read: here (its reader), or on the live instance that runs it. */
export type Located = { partition: number; reader: CommittedReader<unknown, unknown>; owner?: undefined } | { partition: number; reader?: undefined; owner: KnownInstance };

/** The partitions of a query, split into those read here and those to ask of each other instance. */
export interface Plan {
  local: Array<{ partition: number; reader: CommittedReader<unknown, unknown> }>;
  remote: Array<{ owner: KnownInstance; partitions: number[] }>;
}

const REASONS: Record<UnavailableReason, string> = {
  restoring: 'is restoring its state',
  rebalancing: 'has no running owner right now (the group is rebalancing)',
  'not-owner': 'is not run by the instance that was asked (ownership moved)',
  'owner-unreachable': 'is owned by an instance that does not answer',
};

/** The 503 answer for a partition that cannot be read right now. */
export function unavailable(store: string, partition: number, reason: UnavailableReason, instance?: string): QueryError {
  return QueryError.unavailable('partition-unavailable', `Partition ${partition} of store "${store}" ${REASONS[reason]}; try again shortly.`, {
    store,
    partition,
    reason,
    ...(instance ? { instance } : {}),
  });
}

/**
 * Where the partitions of stores are read: a task running here answers from its committed state,
 * one owned by another live instance is asked there, one handed over on a clean stop and not yet
 * running anywhere is read from a standby copy at exactly its last committed state, and any other
 * restoring or between owners cannot be read (503), so no answer ever comes from a copy that may
 * be stale.
 */
export class Placement {
  private readonly host: QueryHost;

  constructor(host: QueryHost) {
    this.host = host;
  }

  /**
   * Where partition `partition` of `store` is read, or why it cannot be. A forwarded request is
   * answered here or not at all: the sender's view of ownership is out of date.
   */
  where(store: CompiledStore, partition: number, forwarded: boolean): Located | Unavailable {
    const taskId = `${store.subtopology}_${partition}`;
    const self = this.host.instanceId;
    const local = this.host.local(taskId, store.name);
    if (local.state === 'running') return { partition, reader: local.reader };
    // No running task to read: a copy of a task handed over on a clean stop, if there is one.
    const miss = (reason: UnavailableReason, instance?: string): Located | Unavailable =>
      this.handedOver(store, taskId, partition, forwarded) ?? { store: store.name, partition, reason, ...(instance ? { instance } : {}) };
    if (local.state === 'restoring') return miss('restoring', self);
    if (forwarded) return miss('not-owner', self);
    const owner = this.host.owner(taskId);
    if (!owner || owner.instance === self) return miss('rebalancing');
    if (owner.tasks[taskId] === 'restoring') return miss('restoring', owner.instance);
    return { partition, owner };
  }

  /**
   * A handed-over copy of the partition: here, or (not for a forwarded request) on another
   * instance that keeps a standby of it, which answers if its copy is at the hand-over's
   * positions. Only for key-value stores without a time to live: a standby keeps no stream
   * time, so it cannot tell what has expired.
   */
  private handedOver(store: CompiledStore, taskId: string, partition: number, forwarded: boolean): Located | undefined {
    const copies = this.host.handedOver;
    if (!copies || store.windowed || store.ttlMs !== undefined) return undefined;
    const reader = copies.copy(taskId, store.name);
    if (reader) return { partition, reader };
    if (forwarded) return undefined;
    const holder = copies.holders(taskId).find((i) => i.instance !== this.host.instanceId);
    return holder ? { partition, owner: holder } : undefined;
  }

  /** As {@link where}, throwing the 503 when the partition cannot be read. */
  locate(store: CompiledStore, partition: number, forwarded: boolean): Located {
    const found = this.where(store, partition, forwarded);
    if ('reason' in found) throw unavailable(found.store, found.partition, found.reason, found.instance);
    return found;
  }

  /** Where each of `partitions` is read, other instances' grouped by instance; throws the 503 of the first that cannot be. */
  plan(store: CompiledStore, partitions: readonly number[], forwarded: boolean): Plan {
    const plan: Plan = { local: [], remote: [] };
    const byInstance = new Map<string, { owner: KnownInstance; partitions: number[] }>();
    for (const partition of partitions) {
      const where = this.locate(store, partition, forwarded);
      if (where.reader) {
        plan.local.push({ partition, reader: where.reader });
        continue;
      }
      let group = byInstance.get(where.owner.instance);
      if (!group) byInstance.set(where.owner.instance, (group = { owner: where.owner, partitions: [] }));
      group.partitions.push(partition);
    }
    plan.remote = [...byInstance.values()];
    return plan;
  }

  /**
   * The partitions of every store that a query sent here could not read now (at most `max`), with
   * their reasons; undefined while the partition count of some store is not known yet.
   */
  unavailablePartitions(max = 20): Unavailable[] | undefined {
    const found: Unavailable[] = [];
    for (const store of this.host.stores) {
      const count = this.host.partitions(store);
      if (count === undefined) return undefined;
      for (let partition = 0; partition < count && found.length < max; partition++) {
        const where = this.where(store, partition, false);
        if ('reason' in where) found.push(where);
      }
      if (found.length >= max) break;
    }
    return found;
  }
}
