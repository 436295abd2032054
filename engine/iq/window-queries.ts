import { partitionForKey } from '../kafka/murmur2.ts';
import type { CompiledStore } from '../topology/compiled.ts';
import type { CommittedReader } from '../../state/committed-reader.ts';
import { isWindowOf, segmentPrefix, SEGMENTS_END } from '../../state/window/windowed-keys.ts';
import type { WindowedStoreSpec } from '../../state/window/segment-retention.ts';
import { decodeCursor, encodeCursor, type ScanPosition } from './cursor.ts';
import { fromJson, parseKey, toJson } from './key-format.ts';
import { unavailable } from './placement.ts';
import { QueryError } from './query-error.ts';
import { peerJson, type Answer, type StoreQueries } from './queries.ts';

/** A windows query as the URL gave it (values still text). */
export interface WindowQuery {
  key?: string;
  from?: string;
  to?: string;
  limit?: string;
  cursor?: string;
  scope?: string;
  /** Partitions a peer asks this instance to read (forwarded requests only). */
  partitions?: string;
}

/** One window of a key, as answered. */
interface WindowEntry {
  keyBytes: Buffer;
  key: unknown;
  window: { start: number; end: number };
  value: unknown;
  /** For time and sliding windows: the largest timestamp of the records in the window. */
  timestamp?: number;
  partition: number;
  instance: string;
}

const LATEST = Number.MAX_SAFE_INTEGER;
/** Up to this many segments, a key's windows are read with one prefix scan per segment. */
const MAX_SEGMENT_PROBES = 16;


/**
 * `GET /v1/stores/{store}/windows`: the windows of a windowed store overlapping [from, to]
 * (milliseconds; both optional). With `key`, that key's windows, asked of the instance owning the
 * key's partition (or redirected there); without, every key's, one page at a time in the store's
 * order (time segment, key, window), with the cursor of the next page, like `/range`.
 */
export class WindowQueries {
  private readonly queries: StoreQueries;

  constructor(queries: StoreQueries) {
    this.queries = queries;
  }

  async windows(storeName: string, query: WindowQuery, options: { forwarded: boolean; redirect: boolean }): Promise<Answer> {
    const q = this.queries;
    const store = q.store(storeName);
    const spec = store.windowed;
    if (!spec || !store.windowKeySerde) throw QueryError.badRequest('not-windowed', `Store "${store.name}" is not a windowed store; read it with /keys or /range.`, { store: store.name });
    const { from, to } = timeRange(query.from, query.to);
    const count = q.partitionCount(store);
    if (query.key === undefined) return this.page(store, spec, from, to, query, options.forwarded, count);
    const inner = q.keyBytes(store, query.key, 'key', store.windowKeySerde);
    const partition = partitionForKey(inner, count);
    const params = new URLSearchParams({ key: query.key, from: String(from), to: String(to) });
    const path = `/v1/stores/${encodeURIComponent(store.name)}/windows?${params}`;
    const where = q.placement.locate(store, partition, options.forwarded);
    if (!where.reader) {
      if (options.redirect) return { kind: 'redirect', location: where.owner.endpoint + path };
      return { kind: 'peer', answer: await q.ask(where.owner, path, store.name, partition) };
    }
    const found = await this.reading(store, partition, where.reader, () => keyWindows(where.reader!, spec, inner, from, to));
    const self = q.host.instanceId;
    const key = toJson(parseKey(store.windowKeySerde, query.key));
    return { kind: 'json', status: 200, body: { store: store.name, key, from, to, partition, instance: self, windows: found.map((w) => shown({ ...w, partition, instance: self }, false)) } };
  }

  /** Every key's windows overlapping [from, to]: one page, merged across partitions and instances. */
  private async page(store: CompiledStore, spec: WindowedStoreSpec, from: number, to: number, query: WindowQuery, forwarded: boolean, count: number): Promise<Answer> {
    const q = this.queries;
    const limit = q.limit(query.limit);
    const after = query.cursor === undefined ? undefined : decodeCursor(store.name, query.cursor);
    const scope = query.scope ?? 'all';
    if (scope !== 'all' && scope !== 'local') throw QueryError.badRequest('bad-scope', 'scope must be "all" (every instance) or "local" (this instance only).');
    let partitions = [...Array(count).keys()];
    if (query.partitions !== undefined) {
      if (!forwarded) throw QueryError.badRequest('bad-parameter', '"partitions" is for requests between instances.');
      partitions = q.partitionList(query.partitions, count);
    }
    const entries: WindowEntry[] = [];
    const self = q.host.instanceId;
    const plan = scope === 'local' ? { local: this.localOnly(store, partitions, query.partitions !== undefined), remote: [] } : q.placement.plan(store, partitions, forwarded);
    for (const { partition, reader } of plan.local) {
      const found = await this.reading(store, partition, reader, () => allWindows(reader, spec, from, to, resumeAt(after, partition), limit + 1));
      for (const w of found) entries.push({ ...w, partition, instance: self });
    }
    let remoteMore = false;
    const answers = await Promise.all(
      plan.remote.map(async ({ owner, partitions: asked }) => {
        const params = new URLSearchParams({ scope: 'local', partitions: asked.join(','), limit: String(limit), from: String(from), to: String(to) });
        if (query.cursor !== undefined) params.set('cursor', query.cursor);
        const answer = await q.ask(owner, `/v1/stores/${encodeURIComponent(store.name)}/windows?${params}`, store.name, asked[0]!);
        if (answer.status !== 200) return answer;
        const page = peerJson<{ windows: Array<Omit<WindowEntry, 'keyBytes'> & { keyBytes: string }>; next: string | null }>(answer.body);
        if (!page || !Array.isArray(page.windows)) throw unavailable(store.name, asked[0]!, 'owner-unreachable', owner.instance);
        if (page.next !== null) remoteMore = true;
        for (const e of page.windows) entries.push({ ...e, key: fromJson(store.windowKeySerde!, e.key), keyBytes: Buffer.from(e.keyBytes, 'base64') });
        return undefined;
      }),
    );
    const failed = answers.find((a) => a !== undefined);
    if (failed) return { kind: 'peer', answer: failed };
    entries.sort((a, b) => Buffer.compare(a.keyBytes, b.keyBytes) || a.partition - b.partition);
    const more = entries.length > limit || remoteMore;
    const page = entries.slice(0, limit);
    const last = page.at(-1);
    return {
      kind: 'json',
      status: 200,
      body: {
        store: store.name,
        from,
        to,
        windows: page.map((e) => shown(e, forwarded)),
        next: more && last ? encodeCursor(store.name, last.keyBytes, last.partition) : null,
      },
    };
  }

  /** Runs a read of a local partition; a store closed under it (its task moved or was recreated) is a 503, not an error. */
  private async reading<T>(store: CompiledStore, partition: number, reader: CommittedReader<unknown, unknown>, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      const now = this.queries.host.local(`${store.subtopology}_${partition}`, store.name);
      if (now.state !== 'running' || now.reader !== reader) throw unavailable(store.name, partition, 'not-owner', this.queries.host.instanceId);
      throw err;
    }
  }

  /** The readers of these partitions running here; a peer's request for one not running here is a 503. */
  private localOnly(store: CompiledStore, partitions: number[], asked: boolean): Array<{ partition: number; reader: CommittedReader<unknown, unknown> }> {
    const found: Array<{ partition: number; reader: CommittedReader<unknown, unknown> }> = [];
    for (const partition of partitions) {
      const local = this.queries.host.local(`${store.subtopology}_${partition}`, store.name);
      if (local.state === 'running') found.push({ partition, reader: local.reader });
      else if (asked) throw unavailable(store.name, partition, local.state === 'restoring' ? 'restoring' : 'not-owner', this.queries.host.instanceId);
    }
    return found;
  }
}

/** [from, to] from the query: whole, non-negative milliseconds, from no later than to; else a 400. */
function timeRange(fromText: string | undefined, toText: string | undefined): { from: number; to: number } {
  const read = (text: string | undefined, name: string, fallback: number) => {
    if (text === undefined) return fallback;
    const value = /^[0-9]{1,16}$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value)) throw QueryError.badRequest('bad-time-range', `"${name}" must be a whole number of milliseconds since the epoch, not "${text.slice(0, 40)}".`);
    return value;
  };
  const from = read(fromText, 'from', 0);
  const to = read(toText, 'to', LATEST);
  if (from > to) throw QueryError.badRequest('bad-time-range', `"from" (${from}) must not be later than "to" (${to}).`, { from, to });
  return { from, to };
}

/** Whether a window overlaps [from, to]: time windows end just before their end, the others at it. */
function overlaps(spec: WindowedStoreSpec, window: { start: number; end: number }, from: number, to: number): boolean {
  return window.start <= to && (spec.endInclusive ? window.end >= from : window.end > from);
}

/** Whether a window is within the store's retention (a whole segment is dropped at once, so older ones may linger a while). */
function live(spec: WindowedStoreSpec, window: { start: number; end: number }, liveFrom: number): boolean {
  return (spec.kind === 'session' ? window.end : window.start) >= liveFrom;
}

/** The segments that can hold windows overlapping [from, to] (a session may end any time after `from`). */
function segments(spec: WindowedStoreSpec, from: number, to: number): { first: number; last: number } {
  const interval = spec.segmentIntervalMs;
  if (spec.kind === 'session') return { first: Math.floor(from / interval), last: Number.POSITIVE_INFINITY };
  return { first: Math.floor(Math.max(0, from - (spec.sizeMs ?? 0)) / interval), last: Math.floor(to / interval) };
}

/** One key's windows overlapping [from, to], in time order. */
async function keyWindows(reader: CommittedReader<unknown, unknown>, spec: WindowedStoreSpec, inner: Buffer, from: number, to: number): Promise<Array<Omit<WindowEntry, 'partition' | 'instance'>>> {
  const { first, last } = segments(spec, from, to);
  const found: Array<Omit<WindowEntry, 'partition' | 'instance'>> = [];
  const liveFrom = reader.liveFrom();
  const keep = (e: { keyBytes: Buffer; key: unknown; value: unknown }) => {
    if (!isWindowOf(e.keyBytes, inner, spec.kind)) return;
    const entry = decoded(e);
    if (live(spec, entry.window, liveFrom) && overlaps(spec, entry.window, from, to)) found.push(entry);
  };
  if (last - first <= MAX_SEGMENT_PROBES) {
    for (let segment = first; segment <= last; segment++) {
      for (const e of await reader.scan({ prefix: Buffer.concat([segmentPrefix(segment), inner]), limit: Number.MAX_SAFE_INTEGER })) keep(e);
    }
  } else {
    // A wide range (or sessions, which may end any time later): one scan from the first segment
    // to the last the store holds, keeping this key's windows; a store holds little beyond its retention.
    const end = Number.isFinite(last) ? segmentPrefix(last + 1) : SEGMENTS_END;
    for (const e of await reader.scan({ from: segmentPrefix(first), to: end, limit: Number.MAX_SAFE_INTEGER })) keep(e);
  }
  return found.sort((a, b) => a.window.start - b.window.start || a.window.end - b.window.end);
}

/** Up to `limit` windows of any key overlapping [from, to], in store order, after `after`. */
async function allWindows(
  reader: CommittedReader<unknown, unknown>,
  spec: WindowedStoreSpec,
  from: number,
  to: number,
  after: { from?: Buffer; after?: Buffer },
  limit: number,
): Promise<Array<Omit<WindowEntry, 'partition' | 'instance'>>> {
  const { first, last } = segments(spec, from, to);
  let start = segmentPrefix(first);
  if (after.from && Buffer.compare(after.from, start) > 0) start = after.from;
  const end = Number.isFinite(last) ? segmentPrefix(last + 1) : SEGMENTS_END;
  const found: Array<Omit<WindowEntry, 'partition' | 'instance'>> = [];
  let resume = after.after;
  const liveFrom = reader.liveFrom();
  for (;;) {
    const batch = await reader.scan({ from: start, to: end, ...(resume ? { after: resume } : {}), limit: Math.max(limit, 100) });
    for (const e of batch) {
      const entry = decoded(e);
      if (live(spec, entry.window, liveFrom) && overlaps(spec, entry.window, from, to)) found.push(entry);
      if (found.length >= limit) return found;
    }
    if (batch.length < Math.max(limit, 100)) return found;
    resume = batch.at(-1)!.keyBytes;
  }
}

/** Where a page resumes in one partition: after the cursor's key in partitions up to its own, from it in later ones. */
function resumeAt(after: ScanPosition | undefined, partition: number): { from?: Buffer; after?: Buffer } {
  if (!after) return {};
  if (after.partition !== undefined && partition > after.partition) return { from: after.key };
  return { after: after.key };
}

/** A stored entry as a window: its key and window (the codec read them), its value and, for time windows, its timestamp. */
function decoded(e: { keyBytes: Buffer; key: unknown; value: unknown }): Omit<WindowEntry, 'partition' | 'instance'> {
  const windowed = e.key as { key: unknown; window: { start: number; end: number } };
  const stamped = e.value as { value?: unknown; time?: number } | null;
  const isStamped = stamped !== null && typeof stamped === 'object' && 'time' in stamped && 'value' in stamped;
  return {
    keyBytes: e.keyBytes,
    key: windowed.key,
    window: windowed.window,
    value: isStamped ? stamped.value : e.value,
    ...(isStamped ? { timestamp: stamped.time } : {}),
  };
}

function shown(e: WindowEntry, forwarded: boolean): unknown {
  return {
    key: toJson(e.key),
    window: e.window,
    value: toJson(e.value),
    ...(e.timestamp === undefined ? {} : { timestamp: e.timestamp }),
    partition: e.partition,
    instance: e.instance,
    ...(forwarded ? { keyBytes: e.keyBytes.toString('base64') } : {}),
  };
}
