import { Agent } from 'undici';
import { FORWARDED_HEADER, signForwarded } from './forwarding.ts';

/** Where another instance answers, and the key it published for forwarded requests. */
export interface PeerAddress {
  endpoint: string;
  /** Absent in announcements of instances that predate signed forwarding. */
  forwardKey?: string;
}

/** What a peer answered: passed on as it is. */
export interface PeerAnswer {
  status: number;
  body: string;
  retryAfter?: string;
}

/** How the store queries ask other instances (HTTP here; a fake in tests). */
export interface Peers {
  get(peer: PeerAddress, pathAndQuery: string): Promise<PeerAnswer>;
}

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

  /**
   * Sends a forwarded GET. The path goes out exactly as given (not normalized as a URL would be,
   * so a key such as `..` stays a key), which is also what the receiver checks the proof against.
   */
  async get(peer: PeerAddress, pathAndQuery: string): Promise<PeerAnswer> {
    const base = new URL(peer.endpoint);
    const path = base.pathname.replace(/\/$/, '') + pathAndQuery;
    // An instance without a key reads any value of the header as "forwarded".
    const proof = peer.forwardKey === undefined ? '1' : signForwarded(peer.forwardKey, 'GET', path);
    const headers: Record<string, string> = { [FORWARDED_HEADER]: proof, accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    const response = await this.agent.request({
      origin: base.origin,
      path,
      method: 'GET',
      headers,
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
