// The contract of the query-server routes that operators bring (an extension's, through
// `OperatorScope.addRoute`): the DSL records a `RouteSpec`, the compiler resolves the topics it
// writes to, and every instance's query server serves it beside its own routes.
import type { Serde } from '../serde/serde.ts';

/** A request as a route's handler sees it. */
export interface RouteRequest {
  /** The path's parameters (`:store` in `/v1/stores/:store/...`). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body: parsed JSON for `application/json`, else the text; undefined without one. */
  readonly body: unknown;
}

/** A route's answer: its status and its JSON body. */
export interface RouteAnswer {
  status: number;
  body: unknown;
}

/** A topic a route writes to, with the serdes of the source that reads it. */
export interface TopicTarget {
  readonly topic: string;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
}

/** Where a record a route wrote went, once the broker acknowledged it. */
export interface WrittenRecord {
  topic: string;
  partition: number;
  offset: number;
}

/** What a route's handler can use besides the request. */
export interface RouteContext {
  /**
   * The topics named in the route's `writesTo`, by the names it gave them: each the topic its
   * source node reads, when that node reads exactly one.
   */
  readonly targets: ReadonlyMap<string, TopicTarget>;
  /**
   * Writes one record to a target, placed by its key with murmur2 (as the producers of the
   * topology's input do, so it reaches the task that holds that key), and resolves once the
   * broker has it. Goes through a producer of the instance's own (idempotent, not transactional).
   */
  write(target: TopicTarget, key: unknown, value: unknown): Promise<WrittenRecord>;
}

/**
 * Answers a request. Throw a `QueryError` for any answer other than the success it returns: it
 * becomes `{"error": code, "message", ...}` with its status, as the server's own errors do.
 */
export type RouteHandler = (request: RouteRequest, context: RouteContext) => Promise<RouteAnswer>;

/** A route an operator brings to the interactive-query server, as the topology records it. */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The path, with `:name` for a parameter: `/v1/stores/:store/resolutions`. */
  path: string;
  /** The topics the handler may write to: a name of the route's own → the source node reading it. */
  writesTo: Readonly<Record<string, string>>;
  handle: RouteHandler;
}

/** A route as the compiler hands it to the query server: its targets resolved. */
export interface CompiledRoute {
  method: RouteSpec['method'];
  path: string;
  targets: ReadonlyMap<string, TopicTarget>;
  handle: RouteHandler;
}

/**
 * The routes operators brought for one store (`/v1/stores/:store/...` whose targets name it), as
 * a client calls them: `GET /v1/stores` lists them with the store, so a client (the console)
 * finds what a store takes besides queries.
 */
export function routesOfStore(routes: readonly CompiledRoute[], store: string): Array<{ method: string; path: string }> {
  return routes.filter((r) => r.path.startsWith('/v1/stores/:store/') && r.targets.has(store)).map((r) => ({ method: r.method, path: r.path.replace(':store', encodeURIComponent(store)) }));
}
