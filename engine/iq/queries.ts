import { partitionForKey } from '../kafka/murmur2.ts';
import type { CompiledStore } from '../topology/compiled.ts';
import type { CommittedReader, ReadEntry } from '../../state/committed-reader.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { KnownInstance } from './directory.ts';
import { fromJson, KeyFormatError, keyBytes, parseKey, toJson } from './key-format.ts';
import { QueryError } from './query-error.ts';

/** Where a task stands on this instance, for a query of one of its stores. */
export type LocalTask = { state: 'running'; reader: CommittedReader<unknown, unknown> } | { state: 'restoring' | 'absent' };

/** What queries need from the application they run in. */
export interface QueryHost {
  readonly instanceId: string;
  readonly stores: readonly CompiledStore[];
  /** The store's partition count (that of its changelog), once known. */
  partitions(store: CompiledStore): number | undefined;
  local(taskId: string, store: string): LocalTask;
  /** The live instance that runs the task, as the directory knows it. */
  owner(taskId: string): KnownInstance | undefined;
}

/** What a peer answered: passed on as it is. */
export interface PeerAnswer {
  status: number;
  body: string;
  retryAfter?: string;
}

export interface Peers {
  get(endpoint: string, pathAndQuery: string): Promise<PeerAnswer>;
}

export interface QueryLimits {
  /** Longest key accepted, in bytes of its text. Default 4,096. */
  maxKeyBytes: number;
  /** Largest page of a scan. Default 1,000. */
  maxLimit: number;
  /** The page size when none is asked for. Default 100. */
  defaultLimit: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxKeyBytes: 4_096, maxLimit: 1_000, defaultLimit: 100 };

/** A scan as asked in a URL's query string (values still text). */
export interface RangeQuery {
  from?: string;
  to?: string;
  prefix?: string;
  limit?: string;
  cursor?: string;
  scope?: string;
  /** Partitions a peer asks this instance to scan (forwarded requests only). */
  partitions?: string;
}

export type Answer = { kind: 'json'; status: number; body: unknown } | { kind: 'peer'; answer: PeerAnswer } | { kind: 'redirect'; location: string };

interface ScanEntry {
  keyBytes: Buffer;
  key: unknown;
  value: unknown;
  partition: number;
  instance: string;
}

/**
 * Interactive queries over the stores of an application, answered by any of its instances: a
 * key's partition comes from the producers' partitioner (murmur2 of the key's bytes), its task
 * from the partition, and the task's owner from the directory. A task running here answers from
 * its committed state; one owned elsewhere is asked there (or the client is redirected); one
 * restoring or between owners answers 503, never a stale or partial value.
 */
export class StoreQueries {
  private readonly host: QueryHost;
  private readonly peers: Peers;
  private readonly limits: QueryLimits;
  private readonly byName: Map<string, CompiledStore>;

  constructor(host: QueryHost, peers: Peers, limits: Partial<QueryLimits> = {}) {
    this.host = host;
    this.peers = peers;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.byName = new Map(host.stores.map((s) => [s.name, s]));
  }

  listStores(): Answer {
    const stores = this.host.stores.map((s) => ({
      name: s.name,
      partitions: this.host.partitions(s) ?? null,
      keySerde: s.keySerde.name,
      valueSerde: s.valueSerde.name,
      ...(s.ttlMs === undefined ? {} : { ttlMs: s.ttlMs }),
    }));
    return { kind: 'json', status: 200, body: { stores } };
  }

  /** `GET /v1/stores/{store}/keys/{key}`. */
  async get(storeName: string, keyText: string, options: { forwarded: boolean; redirect: boolean }): Promise<Answer> {
    const store = this.store(storeName);
    const bytes = this.keyBytes(store, keyText, 'key');
    const partition = partitionForKey(bytes, this.partitionCount(store));
    const where = this.locate(store, partition, options.forwarded);
    if (where.reader) {
      const value = where.reader.get(bytes);
      const found = { store: store.name, key: toJson(parseKey(store.keySerde, keyText)), partition, instance: this.host.instanceId };
      if (value === undefined) throw QueryError.notFound('key-not-found', `Store "${store.name}" has no value for this key.`, found);
      return { kind: 'json', status: 200, body: { ...found, value: toJson(value) } };
    }
    const path = `/v1/stores/${encodeURIComponent(store.name)}/keys/${encodeURIComponent(keyText)}`;
    if (options.redirect) return { kind: 'redirect', location: where.owner.endpoint + path };
    return { kind: 'peer', answer: await this.ask(where.owner, path, store.name, partition) };
  }

  /** `GET /v1/stores/{store}/range`: one page of a scan, in key order, with the cursor of the next. */
  async range(storeName: string, query: RangeQuery, options: { forwarded: boolean }): Promise<Answer> {
    const store = this.store(storeName);
    const limit = this.limit(query.limit);
    const from = query.from === undefined ? undefined : this.keyBytes(store, query.from, 'from');
    const to = query.to === undefined ? undefined : this.keyBytes(store, query.to, 'to');
    const prefix = query.prefix === undefined ? undefined : this.keyBytes(store, query.prefix, 'prefix');
    if (from && to && Buffer.compare(from, to) >= 0) throw QueryError.badRequest('bad-range', '"from" must come before "to" (from is inclusive, to exclusive).');
    const after = query.cursor === undefined ? undefined : decodeCursor(store.name, query.cursor);
    const scope = query.scope ?? 'all';
    if (scope !== 'all' && scope !== 'local') throw QueryError.badRequest('bad-scope', 'scope must be "all" (every instance) or "local" (this instance only).');
    const count = this.partitionCount(store);

    const entries: ScanEntry[] = [];
    const remote = new Map<string, { owner: KnownInstance; partitions: number[] }>();
    let partitions: number[];
    if (query.partitions !== undefined) {
      if (!options.forwarded) throw QueryError.badRequest('bad-parameter', '"partitions" is for requests between instances.');
      partitions = this.partitionList(query.partitions, count);
    } else {
      partitions = [...Array(count).keys()];
    }
    const scanned: number[] = [];
    for (const partition of partitions) {
      const taskId = `${store.subtopology}_${partition}`;
      if (scope === 'local') {
        const local = this.host.local(taskId, store.name);
        if (local.state === 'running') {
          scanned.push(partition);
          entries.push(...(await this.scan(store, partition, local.reader, { from, to, prefix, after, limit: limit + 1 })));
        } else if (query.partitions !== undefined) {
          throw unavailable(store.name, partition, local.state === 'restoring' ? 'restoring' : 'not-owner', this.host.instanceId);
        }
        continue;
      }
      const where = this.locate(store, partition, options.forwarded);
      if (where.reader) {
        scanned.push(partition);
        entries.push(...(await this.scan(store, partition, where.reader, { from, to, prefix, after, limit: limit + 1 })));
      } else {
        const group = remote.get(where.owner.instance) ?? { owner: where.owner, partitions: [] };
        group.partitions.push(partition);
        remote.set(where.owner.instance, group);
      }
    }
    let remoteMore = false;
    const answers = await Promise.all(
      [...remote.values()].map(async ({ owner, partitions: asked }) => {
        const params = new URLSearchParams({ scope: 'local', partitions: asked.join(','), limit: String(limit) });
        for (const name of ['from', 'to', 'prefix', 'cursor'] as const) if (query[name] !== undefined) params.set(name, query[name]!);
        const answer = await this.ask(owner, `/v1/stores/${encodeURIComponent(store.name)}/range?${params}`, store.name, asked[0]!);
        if (answer.status !== 200) return answer;
        const page = JSON.parse(answer.body) as { entries: Array<{ key: unknown; value: unknown; partition: number; instance: string; keyBytes: string }>; next: string | null };
        // A peer's page is full when it has more: what it left out sorts after all it sent.
        if (page.next !== null) remoteMore = true;
        for (const e of page.entries) entries.push({ ...e, key: fromJson(store.keySerde, e.key), keyBytes: Buffer.from(e.keyBytes, 'base64') });
        return undefined;
      }),
    );
    const failed = answers.find((a) => a !== undefined);
    if (failed) return { kind: 'peer', answer: failed };

    entries.sort((a, b) => Buffer.compare(a.keyBytes, b.keyBytes));
    const more = entries.length > limit || remoteMore;
    const page = entries.slice(0, limit);
    const body = {
      store: store.name,
      entries: page.map((e) => ({
        key: toJson(e.key),
        value: toJson(e.value),
        partition: e.partition,
        instance: e.instance,
        ...(options.forwarded ? { keyBytes: e.keyBytes.toString('base64') } : {}),
      })),
      next: more ? encodeCursor(store.name, page.at(-1)!.keyBytes) : null,
      ...(scope === 'local' ? { partitions: scanned } : {}),
    };
    return { kind: 'json', status: 200, body };
  }

  private store(name: string): CompiledStore {
    const store = this.byName.get(name);
    if (!store) {
      throw QueryError.notFound('unknown-store', `There is no store "${name.slice(0, 200)}" in this application.`, { stores: [...this.byName.keys()] });
    }
    return store;
  }

  private partitionCount(store: CompiledStore): number {
    const count = this.host.partitions(store);
    if (count === undefined) throw QueryError.unavailable('starting', `The partitions of store "${store.name}" are not known yet.`, { store: store.name });
    return count;
  }

  private keyBytes(store: CompiledStore, text: string, what: string): Buffer {
    if (Buffer.byteLength(text, 'utf8') > this.limits.maxKeyBytes) {
      throw QueryError.badRequest('key-too-long', `The ${what} is longer than ${this.limits.maxKeyBytes} bytes.`);
    }
    if (text.length === 0 && what === 'key') throw QueryError.badRequest('bad-key', 'The key is empty.');
    try {
      return keyBytes(store.keySerde, parseKey(store.keySerde, text), store.changelogTopic);
    } catch (err) {
      if (err instanceof KeyFormatError) throw QueryError.badRequest('bad-key', `The ${what} is not a key of store "${store.name}": ${err.message}.`);
      throw err;
    }
  }

  private limit(text: string | undefined): number {
    if (text === undefined) return this.limits.defaultLimit;
    const n = /^[0-9]{1,7}$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= 1 && n <= this.limits.maxLimit)) {
      throw QueryError.badRequest('bad-limit', `limit must be a whole number from 1 to ${this.limits.maxLimit}.`, { maxLimit: this.limits.maxLimit });
    }
    return n;
  }

  private partitionList(text: string, count: number): number[] {
    const list = text.split(',').map((p) => (/^[0-9]{1,6}$/.test(p) ? Number(p) : -1));
    if (list.some((p) => p < 0 || p >= count)) throw QueryError.badRequest('bad-parameter', `partitions must be partition numbers below ${count}.`);
    return list;
  }

  /** A task running here (its reader), or the live instance to ask; else 503. */
  private locate(store: CompiledStore, partition: number, forwarded: boolean): { reader: CommittedReader<unknown, unknown>; owner?: undefined } | { reader?: undefined; owner: KnownInstance } {
    const taskId = `${store.subtopology}_${partition}`;
    const self = this.host.instanceId;
    const local = this.host.local(taskId, store.name);
    if (local.state === 'running') return { reader: local.reader };
    if (local.state === 'restoring') throw unavailable(store.name, partition, 'restoring', self);
    // A forwarded request goes no further: the sender's view of ownership is out of date.
    if (forwarded) throw unavailable(store.name, partition, 'not-owner', self);
    const owner = this.host.owner(taskId);
    if (!owner || owner.instance === self) throw unavailable(store.name, partition, 'rebalancing');
    if (owner.tasks[taskId] === 'restoring') throw unavailable(store.name, partition, 'restoring', owner.instance);
    return { owner };
  }

  private async ask(owner: KnownInstance, path: string, store: string, partition: number): Promise<PeerAnswer> {
    try {
      return await this.peers.get(owner.endpoint, path);
    } catch {
      throw unavailable(store, partition, 'owner-unreachable', owner.instance);
    }
  }

  /** Scans one local partition; a store closed under the scan (its task moved) is a 503, not an error. */
  private async scan(store: CompiledStore, partition: number, reader: CommittedReader<unknown, unknown>, options: Parameters<CommittedReader<unknown, unknown>['scan']>[0]): Promise<ScanEntry[]> {
    let found: Array<ReadEntry<unknown, unknown>>;
    try {
      found = await reader.scan(options);
    } catch (err) {
      const now = this.host.local(`${store.subtopology}_${partition}`, store.name);
      if (now.state !== 'running' || now.reader !== reader) throw unavailable(store.name, partition, 'not-owner', this.host.instanceId);
      throw err;
    }
    return found.map((e) => ({ ...e, partition, instance: this.host.instanceId }));
  }
}

const REASONS: Record<string, string> = {
  restoring: 'is restoring its state',
  rebalancing: 'has no running owner right now (the group is rebalancing)',
  'not-owner': 'is not run by the instance that was asked (ownership moved)',
  'owner-unreachable': 'is owned by an instance that does not answer',
};

function unavailable(store: string, partition: number, reason: string, instance?: string): QueryError {
  return QueryError.unavailable('partition-unavailable', `Partition ${partition} of store "${store}" ${REASONS[reason]}; try again shortly.`, {
    store,
    partition,
    reason,
    ...(instance ? { instance } : {}),
  });
}
