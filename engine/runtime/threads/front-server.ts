import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Agent } from 'undici';
import { checkServerOptions, endpointOf, installGuards, type QueryServerOptions } from '../../iq/server.ts';
import type { Logger } from '../../observability/logger.ts';
import { mergeExpositions } from './exposition-merge.ts';

/** A stream thread as the front server sees it: where its own server listens, if it does yet. */
export interface ThreadEndpoint {
  readonly index: number;
  readonly port: number | undefined;
  readonly alive: boolean;
}

/** Headers a proxy does not pass on (hop by hop, or recomputed). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host', 'content-length']);

/**
 * The one query server of an instance that runs several stream threads: it answers on the
 * instance's address with the instance's token and Host allowlist, and passes each request to a
 * thread's own server on loopback. `/threads/<n>/...` goes to thread n (that is the address each
 * thread advertises, so other instances reach a thread through here); any other query goes to
 * a live thread, which answers it or routes it to the owner as every instance does. `/metrics`
 * gathers every thread's metrics, labelled `thread`; `/healthz` and `/readyz` answer for all.
 */
export class FrontServer {
  readonly endpoint: string;
  private readonly app: FastifyInstance;
  private readonly agent: Agent;

  private constructor(app: FastifyInstance, agent: Agent, endpoint: string) {
    this.app = app;
    this.agent = agent;
    this.endpoint = endpoint;
  }

  static async start(options: QueryServerOptions, threads: () => readonly ThreadEndpoint[], log: Logger): Promise<FrontServer> {
    checkServerOptions(options);
    const bind = options.host ?? '127.0.0.1';
    const app = Fastify({ logger: false, bodyLimit: 64 * 1024, requestTimeout: 30_000, return503OnClosing: true });
    const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
    const hosts = installGuards(app, options, bind);
    // Bodies pass through as they came.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    const proxy = new ThreadProxy(agent, threads, options.token, log);
    app.get('/healthz', async (_request, reply) => {
      const all = threads();
      const dead = all.filter((t) => !t.alive).map((t) => t.index);
      return reply.code(dead.length === 0 ? 200 : 503).send({ status: dead.length === 0 ? 'alive' : 'thread-down', threads: all.length, ...(dead.length > 0 ? { down: dead } : {}) });
    });
    app.get('/readyz', async (_request, reply) => {
      const answers = await Promise.all(threads().map(async (t) => ({ thread: t.index, ...(await proxy.ask(t, '/readyz')) })));
      const ready = answers.every((a) => a.status === 200);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', threads: answers.map((a) => ({ thread: a.thread, ...parsed(a.body) })) });
    });
    app.get('/metrics', async (_request, reply) => {
      const texts = await Promise.all(threads().map(async (t) => ({ value: String(t.index), answer: await proxy.ask(t, '/metrics') })));
      const merged = mergeExpositions(texts.filter((t) => t.answer.status === 200).map((t) => ({ value: t.value, text: t.answer.body })));
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(merged);
    });
    app.all('/threads/:thread', (request, reply) => proxy.pass(request, reply, Number((request.params as { thread: string }).thread)));
    app.all('/threads/:thread/*', (request, reply) => proxy.pass(request, reply, Number((request.params as { thread: string }).thread)));
    app.all('/*', (request, reply) => proxy.pass(request, reply, undefined));
    await app.listen({ port: options.port, host: bind });
    const endpoint = endpointOf(app, options);
    hosts.add(new URL(endpoint).host);
    log.info({ endpoint }, 'serving the stream threads\' queries');
    return new FrontServer(app, agent, endpoint);
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.agent.close();
  }
}

/** A JSON body as an object, or the text under `body`. */
function parsed(body: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { body: value };
  } catch {
    return { body };
  }
}

/** Passes requests to the stream threads' servers on loopback. */
class ThreadProxy {
  private next = 0;

  constructor(
    private readonly agent: Agent,
    private readonly threads: () => readonly ThreadEndpoint[],
    private readonly token: string | undefined,
    private readonly log: Logger,
  ) {}

  /** A GET of the front server's own, to one thread. */
  async ask(thread: ThreadEndpoint, path: string): Promise<{ status: number; body: string }> {
    if (thread.port === undefined || !thread.alive) return { status: 503, body: JSON.stringify({ error: 'thread-unavailable', message: `Stream thread ${thread.index} is not serving.` }) };
    try {
      const headers: Record<string, string> = this.token === undefined ? {} : { authorization: `Bearer ${this.token}` };
      const response = await this.agent.request({ origin: `http://127.0.0.1:${thread.port}`, path, method: 'GET', headers, headersTimeout: 5_000, bodyTimeout: 5_000 });
      return { status: response.statusCode, body: await response.body.text() };
    } catch (err) {
      return { status: 503, body: JSON.stringify({ error: 'thread-unavailable', message: `Stream thread ${thread.index} did not answer: ${(err as Error).message}` }) };
    }
  }

  /** Passes a request to thread `index` (or, when undefined, to the next live one) and its answer back. */
  async pass(request: FastifyRequest, reply: FastifyReply, index: number | undefined): Promise<FastifyReply> {
    const thread = index === undefined ? this.pick() : this.threads().find((t) => t.index === index);
    if (thread?.port === undefined || !thread.alive) {
      return reply.code(503).header('retry-after', '1').send({ error: 'thread-unavailable', message: index === undefined ? 'No stream thread is serving yet.' : `Stream thread ${index} is not serving.` });
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    try {
      const response = await this.agent.request({
        origin: `http://127.0.0.1:${thread.port}`,
        path: request.url,
        method: request.method as 'GET',
        headers,
        body: Buffer.isBuffer(request.body) ? request.body : undefined,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      for (const [name, value] of Object.entries(response.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) void reply.header(name, value);
      return reply.code(response.statusCode).send(Buffer.from(await response.body.arrayBuffer()));
    } catch (err) {
      this.log.warn({ thread: thread.index, err: (err as Error).message }, 'a stream thread did not answer a request');
      return reply.code(503).header('retry-after', '1').send({ error: 'thread-unavailable', message: `Stream thread ${thread.index} did not answer.` });
    }
  }

  private pick(): ThreadEndpoint | undefined {
    const live = this.threads().filter((t) => t.alive && t.port !== undefined);
    if (live.length === 0) return undefined;
    return live[this.next++ % live.length];
  }
}
