import type { CommittedReader } from '../../state/committed-reader.ts';
import type { CompiledStore } from '../topology/compiled.ts';
import type { KnownInstance } from './directory.ts';
import type { PeerAnswer } from './peers.ts';
import { QueryError } from './query-error.ts';
import { toJson } from './key-format.ts';

/** A copy of a task's store that may be behind its changelog: a standby's, with its lag in records. */
export interface StaleCopy {
  reader: CommittedReader<unknown, unknown>;
  lag: number;
}

/** Where stale copies are: this instance's, and which other live instances hold one. */
export interface StaleSources {
  readonly instanceId: string;
  /** This instance's standby copy of the task's store, if it keeps one. */
  standby(taskId: string, store: string): StaleCopy | undefined;
  /** Other live instances that announce a standby of the task. */
  standbyHolders(taskId: string): KnownInstance[];
}

/**
 * `?stale=true` on a key lookup whose partition cannot be read from a running task right now
 * (restoring, between owners, its owner away): the answer comes from a standby copy, here or on
 * another instance that announces one, marked `"stale": true` with the copy's lag (changelog
 * records it has not applied yet). Without a copy anywhere, the 503 stands.
 */
export async function staleLookup(
  sources: StaleSources,
  store: CompiledStore,
  partition: number,
  lookup: { bytes: Buffer; key: unknown; path: string; forwarded: boolean },
  ask: (holder: KnownInstance, path: string) => Promise<PeerAnswer>,
  unavailable: QueryError,
): Promise<{ kind: 'json'; status: number; body: unknown } | { kind: 'peer'; answer: PeerAnswer }> {
  const taskId = `${store.subtopology}_${partition}`;
  const copy = sources.standby(taskId, store.name);
  if (copy) {
    const value = copy.reader.get(lookup.bytes);
    const where = { partition, instance: sources.instanceId, stale: true, lag: copy.lag };
    if (value === undefined) throw QueryError.notFound('key-not-found', `Store "${store.name}" has no value for this key in the stale copy asked.`, { store: store.name, key: lookup.key, ...where });
    return { kind: 'json', status: 200, body: { store: store.name, key: lookup.key, value: toJson(value), ...where } };
  }
  // A forwarded request is answered here or not at all.
  if (lookup.forwarded) throw unavailable;
  const holder = sources.standbyHolders(taskId).find((i) => i.instance !== sources.instanceId);
  if (!holder) throw unavailable;
  return { kind: 'peer', answer: await ask(holder, `${lookup.path}?stale=true`) };
}
