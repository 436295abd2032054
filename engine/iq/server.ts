import { createHash, timingSafeEqual } from 'node:crypto';
import os from 'node:os';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { FORWARDED_HEADER, type ForwardingKey } from './forwarding.ts';
import { HostAllowlist, isLoopback, parseHost } from './host-header.ts';
import type { Answer, RangeQuery, StoreQueries } from './queries.ts';
import { WindowQueries, type WindowQuery } from './window-queries.ts';
import { QueryError, single } from './query-error.ts';
import { type CompiledRoute, type RouteContext, routesOfStore } from './routes.ts';
import type { TopicWriter } from './topic-writer.ts';
import { stringifyJson } from '../serde/stack-safe-json.ts';
import { installConsole, isConsoleFile } from './console.ts';
import type { DeadLetters } from './dead-letters.ts';
import { installDeadLetterRoutes } from './dead-letter-routes.ts';
import { findStoreCorruption } from '../../state/leveldb/store-errors.ts';

export interface QueryServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Address to bind. Default 127.0.0.1; any other needs `token`. */
  host?: string;
  /** Bearer token every request must carry (except /healthz, /readyz and the console's own files). Required off loopback. */
  token?: string;
  /** Host names (or host:port) accepted in Host headers besides loopback names, the bound address and the advertised one; `*` accepts any. */
  allowedHosts?: string[];
  /** The URL other instances reach this one at. Default `http://<host>:<port>` (the machine's name when bound to every address). */
  advertisedUrl?: string;
  /**
   * A path prefix the server also answers under, as if absent (a stream thread's server, which
   * its instance's front server reaches under `/threads/<n>`). Forwarded requests are checked
   * against the path as sent, prefix included.
   */
  basePath?: string;
}

/** What the server answers from, besides the store queries. */
export interface ServerHost {
  queries: StoreQueries;
  /** Routes operators brought (an extension's), served beside the server's own. */
  routes: readonly CompiledRoute[];
  /** Writes the records those routes send to topics. */
  topics: TopicWriter;
  /** The application's dead letters, for /v1/dead-letters. */
  deadLetters: DeadLetters;
  /** This instance's key: a request signed with it comes from another instance (forwarded). */
  forwarding: ForwardingKey;
  metadata(): unknown;
  /** The `/metrics` text of an instance of the application (this one's, or another's asked over HTTP); a QueryError when it cannot be had. */
  instanceMetrics(instance: string): Promise<string>;
  /** The topology in `sluice describe`'s JSON form. */
  topology(): unknown;
  readiness(): { ready: boolean; detail: Record<string, unknown> };
  metrics: Metrics;
  log: Logger;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** Refuses settings that would expose state (a non-loopback address without a token) and allowed hosts that are not hosts. */
export function checkServerOptions(options: QueryServerOptions): void {
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw new ConfigError(`The HTTP port must be a whole number from 0 to 65535, not ${options.port}.`);
  }
  if (!isLoopback(host) && !options.token) {
    throw new ConfigError(
      `Refusing to serve queries on ${host} without a token: anyone who can reach it could read the state. ` +
        'Set a bearer token of at least 16 characters in the SLUICE_HTTP_TOKEN environment variable, or as http.token in the --config file ' +
        '(http.token in the options of Application.create), or bind 127.0.0.1.',
    );
  }
  if (options.token !== undefined && options.token.length < 16) {
    throw new ConfigError('The HTTP token must be at least 16 characters long.');
  }
  const invalid = HostAllowlist.invalid(options.allowedHosts ?? []);
  if (invalid.length > 0) {
    throw new ConfigError(`The allowed hosts must be host names, IP addresses, host:port or *; not ${invalid.map((h) => JSON.stringify(h.slice(0, 100))).join(', ')}.`);
  }
}

/**
 * The interactive-query server of one instance (fastify): the store routes, metadata, topology,
 * health, readiness, metrics and the console (/ui/). Every answer is JSON except /metrics and the
 * console's files; no bad request gets a 5xx.
 */
export class QueryServer {
  readonly endpoint: string;
  private readonly app: FastifyInstance;

  private constructor(app: FastifyInstance, endpoint: string) {
    this.app = app;
    this.endpoint = endpoint;
  }

  /** Binds and starts answering. Throws a ConfigError for unsafe settings. */
  static async start(options: QueryServerOptions, host: ServerHost): Promise<QueryServer> {
    checkServerOptions(options);
    const bind = options.host ?? '127.0.0.1';
    const app = Fastify({
      logger: false,
      routerOptions: { maxParamLength: 65_536 },
      bodyLimit: 64 * 1024,
      requestTimeout: 30_000,
      return503OnClosing: true,
      frameworkErrors: (error, _request, reply) => {
        void (reply as FastifyReply).code(400).send({ error: 'bad-request', message: `The request could not be read: ${error.message}` });
      },
      ...(options.basePath === undefined ? {} : { rewriteUrl: withoutPrefix(options.basePath) }),
    });
    // A stored value may nest deeper than JSON.stringify goes.
    app.setReplySerializer((payload) => stringifyJson(payload) ?? 'null');
    const hosts = installGuards(app, options, bind);
    installErrorHandling(app, host);
    installRoutes(app, host);
    installDeadLetterRoutes(app, host.deadLetters);
    installConsole(app);
    await app.listen({ port: options.port, host: bind });
    const endpoint = endpointOf(app, options);
    hosts.add(new URL(endpoint).host);
    return new QueryServer(app, endpoint);
  }

  get port(): number {
    const address = this.app.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  close(): Promise<void> {
    return this.app.close();
  }
}

/** Where a listening server is reached: its advertised URL, else `http://<host>:<port>` (the machine's name when bound to every address). */
export function endpointOf(app: FastifyInstance, options: QueryServerOptions): string {
  const bind = options.host ?? '127.0.0.1';
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shown = WILDCARD.has(bind) ? os.hostname() : bind.includes(':') ? `[${bind}]` : bind;
  return options.advertisedUrl?.replace(/\/$/, '') ?? `http://${shown}:${port}`;
}

/** A rewrite of request URLs that drops `prefix` where they start with it. */
function withoutPrefix(prefix: string): (request: { url?: string }) => string {
  const base = prefix.replace(/\/$/, '');
  return ({ url = '/' }) => (url === base ? '/' : url.startsWith(`${base}/`) || url.startsWith(`${base}?`) ? url.slice(base.length).replace(/^\?/, '/?') : url);
}

/**
 * Host allowlist (against DNS rebinding) and the bearer token, before anything else runs. The
 * token is not asked of /healthz, /readyz and the console's static files (which hold no state):
 * every API route needs it. Returns the allowlist, for the advertised host once the server listens.
 */
export function installGuards(app: FastifyInstance, options: QueryServerOptions, bind: string): HostAllowlist {
  const hosts = new HostAllowlist(options.allowedHosts);
  if (!WILDCARD.has(bind)) hosts.add(bind);
  const digest = options.token === undefined ? undefined : sha256(options.token);
  app.addHook('onRequest', (request, reply, done) => {
    const header = request.headers.host;
    const host = header === undefined ? undefined : parseHost(header);
    if (host === undefined) {
      void reply.code(400).send({ error: 'bad-host', message: 'The Host header is missing or is not a host name, an IP address or [IPv6 address], with an optional port.' });
      return;
    }
    if (!hosts.allows(host.host)) {
      void reply.code(403).send({ error: 'host-not-allowed', message: 'The Host header names a host this server does not answer for; add it to the allowed hosts.' });
      return;
    }
    if (digest !== undefined && request.url !== '/healthz' && request.url !== '/readyz' && !isConsoleFile(request.method, request.url)) {
      const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (given === undefined || !timingSafeEqual(sha256(given), digest)) {
        void reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'A valid bearer token is required.' });
        return;
      }
    }
    done();
  });
  return hosts;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function installErrorHandling(app: FastifyInstance, host: ServerHost): void {
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: 'not-found', message: `No route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}.` });
  });
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error instanceof QueryError) {
      if (error.retryAfter !== undefined) void reply.header('retry-after', String(error.retryAfter));
      void reply.code(error.status).send(error.body);
      return;
    }
    const damage = findStoreCorruption(error);
    if (damage) {
      // The task is wiped and restored meanwhile (see runtime/task/task-signals.ts).
      void reply.header('retry-after', '1');
      void reply.code(503).send({ error: 'store-damaged', message: `Store "${damage.store}" was found damaged here and is being restored from its changelog; ask again shortly.`, store: damage.store });
      return;
    }
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      void reply.code(status).send({ error: 'bad-request', message: error.message });
      return;
    }
    host.log.error({ err: error, url: request.url.slice(0, 500) }, 'query failed');
    void reply.code(500).send({ error: 'internal', message: 'The query failed on the server; see its log.' });
  });
  // Metric children bound once per route and status: no label lookups per request.
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(v: number): void }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const id = `${reply.statusCode} ${route}`;
    let counter = counters.get(id);
    if (!counter) counters.set(id, (counter = host.metrics.httpRequests.labels({ route, status: String(reply.statusCode) })));
    counter.inc();
    let timer = timers.get(route);
    if (!timer) timers.set(route, (timer = host.metrics.httpDuration.labels({ route })));
    timer.observe(reply.elapsedTime / 1000);
    done();
  });
}

function installRoutes(app: FastifyInstance, host: ServerHost): void {
  const { queries } = host;
  const windowQueries = new WindowQueries(queries);
  // Only a request signed with this instance's key counts as forwarded; any other is a client's.
  const forwarded = (request: FastifyRequest) => host.forwarding.verify(request.headers[FORWARDED_HEADER], request.method, request.originalUrl);
  app.get('/healthz', async () => ({ status: 'alive' }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, detail } = host.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', ...detail });
  });
  app.get('/metrics', async (_request, reply) => reply.type(host.metrics.contentType).send(await host.metrics.text()));
  app.get('/v1/metadata', async () => host.metadata());
  app.get<{ Params: { instance: string } }>('/v1/instances/:instance/metrics', async (request, reply) =>
    reply.type(host.metrics.contentType).send(await host.instanceMetrics(request.params.instance)),
  );
  app.get('/v1/topology', async () => host.topology());
  app.get('/v1/stores', async (_request, reply) => {
    const answer = queries.listStores();
    // Each store with the routes operators brought for it (a store that takes writes, say).
    if (answer.kind === 'json') {
      for (const store of (answer.body as { stores: Array<{ name: string; routes?: unknown }> }).stores) {
        const routes = routesOfStore(host.routes, store.name);
        if (routes.length > 0) store.routes = routes;
      }
    }
    return send(reply, answer);
  });
  app.get<{ Params: { store: string; key: string }; Querystring: Record<string, unknown> }>('/v1/stores/:store/keys/:key', async (request, reply) => {
    const { store, key } = request.params;
    const redirect = single(request.query, 'redirect');
    if (redirect !== undefined && redirect !== 'true' && redirect !== 'false') throw QueryError.badRequest('bad-parameter', 'redirect must be true or false.');
    const partitions = single(request.query, 'partitions');
    const stale = single(request.query, 'stale');
    if (stale !== undefined && stale !== 'true' && stale !== 'false') throw QueryError.badRequest('bad-parameter', 'stale must be true or false.');
    return send(reply, await queries.get(store, key, { forwarded: forwarded(request), redirect: redirect === 'true', stale: stale === 'true', ...(partitions === undefined ? {} : { partitions }) }));
  });
  app.get<{ Params: { store: string }; Querystring: Record<string, unknown> }>('/v1/stores/:store/range', async (request, reply) => {
    const query: RangeQuery = {};
    for (const name of ['from', 'to', 'prefix', 'limit', 'cursor', 'scope', 'partitions'] as const) {
      const value = single(request.query, name);
      if (value !== undefined) query[name] = value;
    }
    return send(reply, await queries.range(request.params.store, query, { forwarded: forwarded(request) }));
  });
  app.get<{ Params: { store: string }; Querystring: Record<string, unknown> }>('/v1/stores/:store/windows', async (request, reply) => {
    const query: WindowQuery = {};
    for (const name of ['key', 'from', 'to', 'limit', 'cursor', 'scope', 'partitions'] as const) {
      const value = single(request.query, name);
      if (value !== undefined) query[name] = value;
    }
    const redirect = single(request.query, 'redirect');
    if (redirect !== undefined && redirect !== 'true' && redirect !== 'false') throw QueryError.badRequest('bad-parameter', 'redirect must be true or false.');
    return send(reply, await windowQueries.windows(request.params.store, query, { forwarded: forwarded(request), redirect: redirect === 'true' }));
  });
  for (const route of host.routes) {
    const context: RouteContext = { targets: route.targets, write: (target, key, value) => host.topics.write(target, key, value) };
    app.route<{ Params: Record<string, string>; Querystring: Record<string, unknown> }>({
      method: route.method,
      url: route.path,
      handler: async (request, reply) => {
        const answer = await route.handle({ params: request.params, query: request.query, headers: request.headers, body: request.body }, context);
        return reply.code(answer.status).send(answer.body);
      },
    });
  }
}

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  if (answer.kind === 'redirect') return reply.code(307).header('location', answer.location).send({ location: answer.location });
  if (answer.kind === 'json') return reply.code(answer.status).send(answer.body);
  const { status, body, retryAfter } = answer.answer;
  if (retryAfter !== undefined) void reply.header('retry-after', retryAfter);
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
