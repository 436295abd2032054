/**
 * The service `async-enrich` calls: a node:http server on 127.0.0.1 and a free port, keeping
 * connections alive, that answers `GET /enrich?key=<key>&value=<value>` after a delay drawn
 * uniformly from `BENCH_DELAY_MS` (`min,max`, default 10,30) with
 * `{"key","value","segment","score"}`, the enrichment a fixed function of the key
 * (bench/workloads/async-enrich.ts). `GET /stats` gives what it counted (`ServiceStats`): calls,
 * calls in flight integrated over time, the most in flight since the previous read, its CPU.
 *
 * The harness starts it once per workload run, in a process of its own so that its CPU shows
 * apart from the harness's and the system's, and its timers do not wait on the harness's polling.
 * Prints `{"event":"endpoint","url":…}` once listening; exits on SIGTERM.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { enrichmentOf, type ServiceStats } from '../workloads/async-enrich.ts';

const [minMs, maxMs] = (process.env.BENCH_DELAY_MS ?? '10,30').split(',').map(Number) as [number, number];

let calls = 0;
let inFlight = 0;
let peakInFlight = 0;
let inFlightMs = 0;
let changedAt = performance.now();

/** Integrates the calls in flight up to now, then moves them by `by`. */
function inFlightChange(by: number): void {
  const now = performance.now();
  inFlightMs += inFlight * (now - changedAt);
  changedAt = now;
  inFlight += by;
  if (inFlight > peakInFlight) peakInFlight = inFlight;
}

function answer(response: http.ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function stats(): ServiceStats {
  inFlightChange(0);
  const cpu = process.cpuUsage();
  const read: ServiceStats = { atMs: changedAt, calls, inFlightMs, peakInFlight, cpuMs: (cpu.user + cpu.system) / 1000 };
  peakInFlight = inFlight;
  return read;
}

const server = http.createServer((request, response) => {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (path === '/stats') return answer(response, 200, JSON.stringify(stats()));
  const params = new URLSearchParams(query < 0 ? '' : url.slice(query + 1));
  const key = params.get('key');
  if (path !== '/enrich' || key === null) return answer(response, 404, '{"error":"GET /enrich?key=..&value=.. or /stats"}');
  const value = params.get('value') ?? '';
  calls++;
  inFlightChange(1);
  setTimeout(() => {
    inFlightChange(-1);
    answer(response, 200, JSON.stringify({ key, value, ...enrichmentOf(key) }));
  }, minMs + Math.random() * (maxMs - minMs));
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
process.stdout.write(JSON.stringify({ event: 'endpoint', url: `http://127.0.0.1:${port}` }) + '\n');

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
