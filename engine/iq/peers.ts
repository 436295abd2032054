import { Agent, request } from 'undici';
import type { PeerAnswer, Peers } from './queries.ts';

/** Marks a request one instance makes of another: it is answered locally, never passed on. */
export const FORWARDED_HEADER = 'x-sluice-forwarded';

/** Asks other instances over HTTP, with pooled keep-alive connections and a bound on each call. */
export class HttpPeers implements Peers {
  private readonly agent: Agent;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: { token?: string; timeoutMs?: number } = {}) {
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: 32, connect: { timeout: this.timeoutMs } });
  }

  async get(endpoint: string, pathAndQuery: string): Promise<PeerAnswer> {
    const headers: Record<string, string> = { [FORWARDED_HEADER]: '1', accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    const response = await request(endpoint + pathAndQuery, {
      method: 'GET',
      headers,
      dispatcher: this.agent,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const body = await response.body.text();
    const retryAfter = response.headers['retry-after'];
    return { status: response.statusCode, body, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
