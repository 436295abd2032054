import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A post as the search service indexed it: the last event's version and data. */
export interface IndexedPost {
  version: number;
  data: Record<string, unknown>;
}

/**
 * A small search service on loopback for the post indexer's tests (real sockets): `PUT
 * /posts/<id>` indexes the event in the body, `DELETE /posts/<id>` removes the post. It keeps,
 * per post, every version it was sent, in the order the calls came, and answers 503 to the
 * calls `fail` picks (the indexer retries them).
 */
export async function startSearchService(fail: (call: number) => boolean = () => false) {
  const posts = new Map<string, IndexedPost>();
  const versionsSeen = new Map<string, number[]>();
  const counts = { calls: 0, failed: 0 };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const call = ++counts.calls;
      const id = decodeURIComponent((request.url ?? '').replace(/^\/posts\//, ''));
      if (fail(call)) {
        counts.failed++;
        response.writeHead(503).end();
        return;
      }
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { version: number; data: Record<string, unknown> };
      versionsSeen.set(id, [...(versionsSeen.get(id) ?? []), event.version]);
      if (request.method === 'DELETE') posts.delete(id);
      else posts.set(id, { version: event.version, data: { ...(posts.get(id)?.data ?? {}), ...event.data } });
      // A little work, in random time, so that calls finish out of order.
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"ok"}'), Math.floor(Math.random() * 5));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    versionsSeen,
    counts,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
