import type { CommittedReader } from '../../state/committed-reader.ts';
import type { CompiledGlobalStore } from '../topology/compiled.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { parseKey, toJson } from './key-format.ts';
import { QueryError } from './query-error.ts';

/** A global store as this instance holds it. */
export interface LocalGlobalStore {
  spec: CompiledGlobalStore;
  reader: CommittedReader<unknown, unknown>;
}

/** How the store queries read a key, a bound and a page size from text (their checks, shared). */
export interface QueryParsing {
  keyBytes(store: Pick<CompiledGlobalStore, 'name' | 'keySerde' | 'changelogTopic'>, text: string, what: string): Buffer;
  limit(text: string | undefined): number;
}

/** A scan of a global store as the URL's query string asks it (values still text). */
export interface GlobalRangeQuery {
  from?: string;
  to?: string;
  prefix?: string;
  limit?: string;
  cursor?: string;
}

type JsonAnswer = { kind: 'json'; status: number; body: unknown };

/**
 * Queries of global tables' stores: every instance holds the whole table, so each answers from
 * its own copy, never asking or redirecting to another (as Kafka Streams queries a global store
 * locally). A key's answer has no partition (`null`): the store holds every partition at once.
 */
export class GlobalQueries {
  private readonly stores: Map<string, LocalGlobalStore>;
  private readonly instanceId: string;
  private readonly parsing: QueryParsing;

  constructor(stores: readonly LocalGlobalStore[], instanceId: string, parsing: QueryParsing) {
    this.stores = new Map(stores.map((s) => [s.spec.name, s]));
    this.instanceId = instanceId;
    this.parsing = parsing;
  }

  /** The global store of this name, if there is one. */
  find(name: string): LocalGlobalStore | undefined {
    return this.stores.get(name);
  }

  /** The entries of `GET /v1/stores` for the global stores. */
  list(): unknown[] {
    return [...this.stores.values()].map(({ spec }) => ({ name: spec.name, global: true, topic: spec.changelogTopic, partitions: null, keySerde: spec.keySerde.name, valueSerde: spec.valueSerde.name, partitionedByKey: false }));
  }

  /** `GET /v1/stores/{store}/keys/{key}` of a global store. */
  get(store: LocalGlobalStore, keyText: string): JsonAnswer {
    const { spec } = store;
    const bytes = this.parsing.keyBytes(spec, keyText, 'key');
    const key = toJson(parseKey(spec.keySerde, keyText));
    const value = store.reader.get(bytes);
    if (value === undefined) throw QueryError.notFound('key-not-found', `Store "${spec.name}" has no value for this key.`, { store: spec.name, key });
    return { kind: 'json', status: 200, body: { store: spec.name, key, value: toJson(value), partition: null, instance: this.instanceId } };
  }

  /** `GET /v1/stores/{store}/range` of a global store: one page in key order, with the next page's cursor. */
  async range(store: LocalGlobalStore, query: GlobalRangeQuery): Promise<JsonAnswer> {
    const { spec } = store;
    const limit = this.parsing.limit(query.limit);
    const bound = (text: string | undefined, what: string) => (text === undefined ? undefined : this.parsing.keyBytes(spec, text, what));
    const from = bound(query.from, 'from');
    const to = bound(query.to, 'to');
    if (from && to && Buffer.compare(from, to) >= 0) throw QueryError.badRequest('bad-range', '"from" must come before "to" (from is inclusive, to exclusive).');
    const after = query.cursor === undefined ? undefined : decodeCursor(spec.name, query.cursor).key;
    const found = await store.reader.scan({ from, to, prefix: bound(query.prefix, 'prefix'), after, limit: limit + 1 });
    const page = found.slice(0, limit);
    const last = page.at(-1);
    const entries = page.map((e) => ({ key: toJson(e.key), value: toJson(e.value), partition: null, instance: this.instanceId }));
    return { kind: 'json', status: 200, body: { store: spec.name, entries, next: found.length > limit && last ? encodeCursor(spec.name, last.keyBytes) : null } };
  }
}
