/**
 * The `iq-lookups` baseline: a bare `node:http` server on 127.0.0.1 and a free port that answers
 * every request with the same small JSON body, shaped and sized like an interactive-query answer
 * (`{"store","key","value","partition","instance"}`). No routing, no parsing, no store: the most a
 * Node.js HTTP server can answer on this machine. Prints `{"event":"endpoint","url":…}` and
 * `{"event":"ready"}` once listening; on SIGTERM closes, reports its peak RSS and exits.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { announceReady, trackMemory } from './protocol.ts';

const memory = trackMemory();
const body = Buffer.from(JSON.stringify({ store: 'counts', key: 'user-4711', value: 10, partition: 3, instance: 'bench-0123abcd-node-http-0' }));

const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  response.end(body);
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
process.stdout.write(JSON.stringify({ event: 'endpoint', url: `http://127.0.0.1:${port}` }) + '\n');
announceReady();

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => {
    memory.report();
    process.exit(0);
  });
});
