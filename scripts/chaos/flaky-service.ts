/**
 * The service the chaos topology calls per record (its async stage): a real HTTP server on
 * loopback that answers `GET /echo?value=n` with `n` after a few milliseconds, but fails a share
 * of the calls (500) and stalls another share (no answer at all, until the caller gives up), so
 * that retries, time-outs and aborted calls happen while instances are killed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../../topologies/lib/seeded-random.ts';

export interface FlakyServiceOptions {
  /** Share of calls answered 500. */
  failRate: number;
  /** Share of calls never answered. */
  stallRate: number;
  seed: number;
}

export interface FlakyService {
  readonly url: string;
  readonly counts: { calls: number; failed: number; stalled: number };
  close(): Promise<void>;
}

export async function startFlakyService(options: FlakyServiceOptions): Promise<FlakyService> {
  const rand = seededRandom(options.seed);
  const counts = { calls: 0, failed: 0, stalled: 0 };
  const server = http.createServer((request, response) => {
    counts.calls++;
    const value = new URL(request.url ?? '/', 'http://service').searchParams.get('value');
    const draw = rand();
    if (draw < options.stallRate) {
      counts.stalled++;
      return; // The caller's time-out aborts the request; the socket closes then.
    }
    if (draw < options.stallRate + options.failRate || value === null) {
      counts.failed++;
      response.writeHead(500).end('unavailable');
      return;
    }
    setTimeout(() => response.writeHead(200, { 'content-type': 'text/plain' }).end(value), 1 + Math.floor(rand() * 4));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
