import { partitionForKey } from '../kafka/murmur2.ts';
import type { CompiledStore } from '../topology/compiled.ts';
import type { CommittedReader, ReadEntry } from '../../state/committed-reader.ts';
import { decodeCursor, encodeCursor, type ScanPosition } from './cursor.ts';
import { GlobalQueries } from './global-queries.ts';
import type { KnownInstance } from './directory.ts';
import { fromJson, KeyFormatError, keyBytes, parseKey, toJson } from './key-format.ts';
import type { PeerAnswer, Peers } from './peers.ts';
import { Placement, type QueryHost, unavailable, type Unavailable } from './placement.ts';
import { QueryError } from './query-error.ts';
import { staleLookup } from './stale-reads.ts';

export type { LocalTask, QueryHost } from './placement.ts';

export interface QueryLimits {
  /** Longest key accepted, in bytes of its text. Default 4,096. */
  maxKeyBytes: number;
  /** Largest page of a scan. Default 1,000. */
  maxLimit: number;
  /** The page size when none is asked for. Default 100. */
  defaultLimit: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxKeyBytes: 4_096, maxLimit: 1_000, defaultLimit: 100 };

/** A key lookup's options as the request gave them. */
export interface KeyQuery {
  /** The request proved it comes from another instance: it is answered here, never passed on. */
  forwarded: boolean;
  /** `?redirect=true`: a 307 to the owner instead of asking it (stores partitioned by key). */
  redirect: boolean;
  /** Partitions a peer asks this instance to look in (forwarded requests only). */
  partitions?: string;
  /** `?stale=true`: a partition no running task can answer now is read from a standby copy (stale-reads.ts). */
  stale?: boolean;
}

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

/** A value of the key found in one partition. */
interface Found {
  value: unknown;
  partition: number;
  instance: string;
}

/** Key order, then partition order: the order of scans and of their cursors. */
function byKeyThenPartition(a: ScanEntry, b: ScanEntry): number {
  return Buffer.compare(a.keyBytes, b.keyBytes) || a.partition - b.partition;
}

/**
 * Interactive queries over the stores of an application, answered by any of its instances. For
 * a store partitioned by key, a key's partition comes from the producers' partitioner (murmur2
 * of the key's bytes), its task from the partition, and the task's owner from the directory; for
 * any other store, every partition is asked (here, and of each other instance in parallel). A
 * task running here answers from its committed state; one owned elsewhere is asked there (or the
 * client is redirected); one restoring or between owners makes the answer a 503, never a stale,
 * partial or wrongly empty one.
 */
export class StoreQueries {
  /** @internal Shared with the window queries. */
  readonly host: QueryHost;
  private readonly peers: Peers;
  private readonly limits: QueryLimits;
  /** @internal Shared with the window queries. */
  readonly placement: Placement;
  private readonly byName: Map<string, CompiledStore>;
  /** The global tables' stores, answered from this instance's copy. */
  private readonly globals: GlobalQueries;

  constructor(host: QueryHost, peers: Peers, limits: Partial<QueryLimits> = {}) {
    this.host = host;
    this.peers = peers;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.placement = new Placement(host);
    this.byName = new Map(host.stores.map((s) => [s.name, s]));
    this.globals = new GlobalQueries(host.globalStores ?? [], host.instanceId, this);
  }

  listStores(): Answer {
    const stores = this.host.stores.map((s) => ({
      name: s.name,
      partitions: this.host.partitions(s) ?? null,
      keySerde: s.keySerde.name,
      valueSerde: s.valueSerde.name,
      partitionedByKey: s.partitionedByKey,
      ...(s.ttlMs === undefined ? {} : { ttlMs: s.ttlMs }),
      ...(s.windowed ? { windowed: { kind: s.windowed.kind, ...(s.windowed.sizeMs === undefined ? {} : { sizeMs: s.windowed.sizeMs }), retentionMs: s.windowed.retentionMs } } : {}),
    }));
    return { kind: 'json', status: 200, body: { stores: [...stores, ...this.globals.list()] } };
  }

  /** The partitions a query sent here could not read now (for readiness); undefined while partition counts are unknown. */
  unavailablePartitions(max?: number): Unavailable[] | undefined {
    return this.placement.unavailablePartitions(max);
  }

  /** `GET /v1/stores/{store}/keys/{key}`. */
  async get(storeName: string, keyText: string, options: KeyQuery): Promise<Answer> {
    const global = this.globals.find(storeName);
    if (global) return this.globals.get(global, keyText);
    const store = this.plainStore(storeName);
    const bytes = this.keyBytes(store, keyText, 'key');
    const count = this.partitionCount(store);
    const key = toJson(parseKey(store.keySerde, keyText));
    const path = `/v1/stores/${encodeURIComponent(store.name)}/keys/${encodeURIComponent(keyText)}`;
    if (options.partitions !== undefined) {
      if (!options.forwarded) throw QueryError.badRequest('bad-parameter', '"partitions" is for requests between instances.');
      const found = this.lookHere(store, bytes, this.partitionList(options.partitions, count));
      return { kind: 'json', status: 200, body: { store: store.name, key, entries: found } };
    }
    if (!store.partitionedByKey) return this.gather(store, bytes, key, path, count, options.forwarded);
    const partition = partitionForKey(bytes, count);
    // With ?stale=true, a partition no running task answers now is read from a standby copy.
    const stale = options.stale ? this.host.stale : undefined;
    const fallBack = (failure: QueryError) => {
      if (!stale) throw failure;
      return staleLookup(stale, store, partition, { bytes, key, path, forwarded: options.forwarded }, (holder, asked) => this.ask(holder, asked, store.name, partition), failure);
    };
    const where = this.placement.where(store, partition, options.forwarded);
    if ('reason' in where) return fallBack(unavailable(where.store, where.partition, where.reason, where.instance));
    if (where.reader) {
      const value = where.reader.get(bytes);
      const self = this.host.instanceId;
      return keyAnswer(store, key, value === undefined ? [] : [{ value: toJson(value), partition, instance: self }], partition, self);
    }
    if (options.redirect) return { kind: 'redirect', location: where.owner.endpoint + path };
    let answer: PeerAnswer;
    try {
      answer = await this.ask(where.owner, path, store.name, partition);
    } catch (err) {
      if (err instanceof QueryError) return fallBack(err);
      throw err;
    }
    // The owner cannot answer (restoring, or no longer the owner): a copy, else its answer.
    if (answer.status === 503 && stale) return fallBack(unavailable(store.name, partition, 'not-owner', where.owner.instance)).catch(() => ({ kind: 'peer', answer }) as const);
    return { kind: 'peer', answer };
  }

  /**
   * A key of a store not partitioned by key: every partition is asked, those here read at once,
   * each other instance asked for its partitions in parallel (bounded by the peers' timeout).
   * Any partition that cannot answer makes it a 503: a key not found may be in that partition.
   */
  private async gather(store: CompiledStore, bytes: Buffer, key: unknown, path: string, count: number, forwarded: boolean): Promise<Answer> {
    const plan = this.placement.plan(store, [...Array(count).keys()], forwarded);
    const found = this.lookHere(store, bytes, plan.local.map((l) => l.partition));
    const failures = await Promise.all(
      plan.remote.map(async ({ owner, partitions }) => {
        const answer = await this.ask(owner, `${path}?partitions=${partitions.join(',')}`, store.name, partitions[0]!);
        if (answer.status === 503) return answer;
        const entries = answer.status === 200 ? peerJson<{ entries?: unknown }>(answer.body)?.entries : undefined;
        if (!Array.isArray(entries)) throw unavailable(store.name, partitions[0]!, 'owner-unreachable', owner.instance);
        found.push(...(entries as Found[]));
        return undefined;
      }),
    );
    const failed = failures.find((f) => f !== undefined);
    if (failed) return { kind: 'peer', answer: failed };
    return keyAnswer(store, key, found.sort((a, b) => a.partition - b.partition));
  }

  /** The key's values in these partitions, all run here (else the 503 of the first that is not). */
  private lookHere(store: CompiledStore, bytes: Buffer, partitions: number[]): Found[] {
    const found: Found[] = [];
    for (const partition of partitions) {
      const where = this.placement.locate(store, partition, true);
      const value = where.reader!.get(bytes);
      if (value !== undefined) found.push({ value: toJson(value), partition, instance: this.host.instanceId });
    }
    return found;
  }

  /** `GET /v1/stores/{store}/range`: one page of a scan, in key order, with the cursor of the next. */
  async range(storeName: string, query: RangeQuery, options: { forwarded: boolean }): Promise<Answer> {
    const global = this.globals.find(storeName);
    if (global) return this.globals.range(global, query);
    const store = this.plainStore(storeName);
    const limit = this.limit(query.limit);
    const from = query.from === undefined ? undefined : this.keyBytes(store, query.from, 'from');
    const to = query.to === undefined ? undefined : this.keyBytes(store, query.to, 'to');
    const prefix = query.prefix === undefined ? undefined : this.keyBytes(store, query.prefix, 'prefix');
    if (from && to && Buffer.compare(from, to) >= 0) throw QueryError.badRequest('bad-range', '"from" must come before "to" (from is inclusive, to exclusive).');
    const after = query.cursor === undefined ? undefined : decodeCursor(store.name, query.cursor);
    const scope = query.scope ?? 'all';
    if (scope !== 'all' && scope !== 'local') throw QueryError.badRequest('bad-scope', 'scope must be "all" (every instance) or "local" (this instance only).');
    const count = this.partitionCount(store);
    let partitions: number[];
    if (query.partitions !== undefined) {
      if (!options.forwarded) throw QueryError.badRequest('bad-parameter', '"partitions" is for requests between instances.');
      partitions = this.partitionList(query.partitions, count);
    } else {
      partitions = [...Array(count).keys()];
    }
    const bounds = { from, to, prefix, after, limit: limit + 1 };

    const entries: ScanEntry[] = [];
    const scanned: number[] = [];
    let remote: Array<{ owner: KnownInstance; partitions: number[] }> = [];
    if (scope === 'local') {
      for (const partition of partitions) {
        let reader: CommittedReader<unknown, unknown>;
        if (query.partitions !== undefined) {
          // Asked by a peer: read here (a running task or a handed-over copy), or the whole scan is a 503.
          reader = this.placement.locate(store, partition, true).reader!;
        } else {
          // This instance's own running tasks only.
          const local = this.host.local(`${store.subtopology}_${partition}`, store.name);
          if (local.state !== 'running') continue;
          reader = local.reader;
        }
        scanned.push(partition);
        entries.push(...(await this.scan(store, partition, reader, bounds)));
      }
    } else {
      const plan = this.placement.plan(store, partitions, options.forwarded);
      for (const { partition, reader } of plan.local) {
        scanned.push(partition);
        entries.push(...(await this.scan(store, partition, reader, bounds)));
      }
      remote = plan.remote;
    }
    let remoteMore = false;
    const answers = await Promise.all(
      remote.map(async ({ owner, partitions: asked }) => {
        const params = new URLSearchParams({ scope: 'local', partitions: asked.join(','), limit: String(limit) });
        for (const name of ['from', 'to', 'prefix', 'cursor'] as const) if (query[name] !== undefined) params.set(name, query[name]!);
        const answer = await this.ask(owner, `/v1/stores/${encodeURIComponent(store.name)}/range?${params}`, store.name, asked[0]!);
        if (answer.status !== 200) return answer;
        const page = peerJson<{ entries: Array<{ key: unknown; value: unknown; partition: number; instance: string; keyBytes: string }>; next: string | null }>(answer.body);
        if (!page || !Array.isArray(page.entries)) throw unavailable(store.name, asked[0]!, 'owner-unreachable', owner.instance);
        // A peer's page is full when it has more: what it left out sorts after all it sent.
        if (page.next !== null) remoteMore = true;
        for (const e of page.entries) entries.push({ ...e, key: fromJson(store.keySerde, e.key), keyBytes: Buffer.from(e.keyBytes, 'base64') });
        return undefined;
      }),
    );
    const failed = answers.find((a) => a !== undefined);
    if (failed) return { kind: 'peer', answer: failed };

    entries.sort(byKeyThenPartition);
    const more = entries.length > limit || remoteMore;
    const page = entries.slice(0, limit);
    const last = page.at(-1);
    const body = {
      store: store.name,
      entries: page.map((e) => ({
        key: toJson(e.key),
        value: toJson(e.value),
        partition: e.partition,
        instance: e.instance,
        ...(options.forwarded ? { keyBytes: e.keyBytes.toString('base64') } : {}),
      })),
      next: more && last ? encodeCursor(store.name, last.keyBytes, last.partition) : null,
      ...(scope === 'local' ? { partitions: scanned } : {}),
    };
    return { kind: 'json', status: 200, body };
  }

  /** A store read by key: a windowed store's keys carry windows, read through /windows. */
  private plainStore(name: string): CompiledStore {
    const store = this.store(name);
    if (store.windowed) {
      throw QueryError.badRequest('windowed-store', `Store "${store.name}" is windowed: ask /v1/stores/${store.name}/windows?key=…&from=…&to=… for a key's windows.`, { store: store.name });
    }
    return store;
  }

  /** @internal Shared with the window queries. */
  store(name: string): CompiledStore {
    const store = this.byName.get(name);
    if (!store) {
      throw QueryError.notFound('unknown-store', `There is no store "${name.slice(0, 200)}" in this application.`, { stores: [...this.byName.keys()] });
    }
    return store;
  }

  /** @internal Shared with the window queries. */
  partitionCount(store: CompiledStore): number {
    const count = this.host.partitions(store);
    if (count === undefined) throw QueryError.unavailable('starting', `The partitions of store "${store.name}" are not known yet.`, { store: store.name });
    return count;
  }

  /** @internal Shared with the window queries. */
  keyBytes(store: Pick<CompiledStore, 'name' | 'keySerde' | 'changelogTopic'>, text: string, what: string, serde = store.keySerde): Buffer {
    if (Buffer.byteLength(text, 'utf8') > this.limits.maxKeyBytes) {
      throw QueryError.badRequest('key-too-long', `The ${what} is longer than ${this.limits.maxKeyBytes} bytes.`);
    }
    if (text.length === 0 && what === 'key') throw QueryError.badRequest('bad-key', 'The key is empty.');
    try {
      return keyBytes(serde, parseKey(serde, text), store.changelogTopic);
    } catch (err) {
      if (err instanceof KeyFormatError) throw QueryError.badRequest('bad-key', `The ${what} is not a key of store "${store.name}": ${err.message}.`);
      throw err;
    }
  }

  /** @internal Shared with the window queries. */
  limit(text: string | undefined): number {
    if (text === undefined) return this.limits.defaultLimit;
    const n = /^[0-9]{1,7}$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= 1 && n <= this.limits.maxLimit)) {
      throw QueryError.badRequest('bad-limit', `limit must be a whole number from 1 to ${this.limits.maxLimit}.`, { maxLimit: this.limits.maxLimit });
    }
    return n;
  }

  /** @internal Shared with the window queries. */
  partitionList(text: string, count: number): number[] {
    const list = text.split(',').map((p) => (/^[0-9]{1,6}$/.test(p) ? Number(p) : -1));
    if (list.some((p) => p < 0 || p >= count)) throw QueryError.badRequest('bad-parameter', `partitions must be partition numbers below ${count}.`);
    return [...new Set(list)];
  }

  /** @internal Shared with the window queries. */
  async ask(owner: KnownInstance, path: string, store: string, partition: number): Promise<PeerAnswer> {
    try {
      return await this.peers.get(owner, path);
    } catch {
      throw unavailable(store, partition, 'owner-unreachable', owner.instance);
    }
  }

  /**
   * Scans one local partition, resuming after the cursor's position: after its key in partitions
   * up to the cursor's, from its key on in later ones (entries come in key, then partition, order).
   * A store closed under the scan (its task moved) is a 503, not an error.
   */
  private async scan(
    store: CompiledStore,
    partition: number,
    reader: CommittedReader<unknown, unknown>,
    bounds: { from?: Buffer; to?: Buffer; prefix?: Buffer; after?: ScanPosition; limit: number },
  ): Promise<ScanEntry[]> {
    const { after, ...options } = bounds;
    const range: Parameters<CommittedReader<unknown, unknown>['scan']>[0] = options;
    if (after && after.partition !== undefined && partition > after.partition) {
      if (!options.from || Buffer.compare(after.key, options.from) > 0) range.from = after.key;
    } else if (after) {
      range.after = after.key;
    }
    let found: Array<ReadEntry<unknown, unknown>>;
    try {
      found = await reader.scan(range);
    } catch (err) {
      const now = this.host.local(`${store.subtopology}_${partition}`, store.name);
      if (now.state !== 'running' || now.reader !== reader) throw unavailable(store.name, partition, 'not-owner', this.host.instanceId);
      throw err;
    }
    return found.map((e) => ({ ...e, partition, instance: this.host.instanceId }));
  }
}

/**
 * The answer to a key lookup: the value in the lowest partition that holds the key, and, when
 * other partitions hold it too (a store not partitioned by key), theirs in `alsoIn`; else 404.
 */
function keyAnswer(store: CompiledStore, key: unknown, found: Found[], partition?: number, instance?: string): Answer {
  const [first, ...others] = found;
  if (!first) {
    const where = partition === undefined ? {} : { partition, instance };
    throw QueryError.notFound('key-not-found', `Store "${store.name}" has no value for this key.`, { store: store.name, key, ...where });
  }
  const body = { store: store.name, key, value: first.value, partition: first.partition, instance: first.instance, ...(others.length > 0 ? { alsoIn: others } : {}) };
  return { kind: 'json', status: 200, body };
}

/** A peer's JSON body, or undefined when it is not JSON. */
export function peerJson<T>(body: string): T | undefined {
  try {
    return JSON.parse(body) as T;
  } catch {
    return undefined;
  }
}
