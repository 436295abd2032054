/**
 * The `iq-lookups` load generator (not a benchmarked system): autocannon's programmatic API in a
 * process of its own, so it never shares an event loop with the server it measures.
 *
 * Settings come as JSON in `BENCH_LOAD`: `{ url, connections, seconds, keys, pathPrefix }`. Each
 * request asks for `<pathPrefix><n>` with `n` a uniformly random key number below `keys`. Every
 * 2xx response's latency is kept at autocannon's resolution (hrtime, fractions of a millisecond;
 * its own histogram rounds to whole ones) for the percentiles. Prints one line,
 * `{"event":"load","requests","seconds","requestsPerSec","p50Ms","p99Ms","errors","timeouts","non2xx"}`,
 * and exits.
 */
import autocannon from 'autocannon';

interface LoadSettings {
  url: string;
  connections: number;
  seconds: number;
  keys: number;
  pathPrefix: string;
}

const settings = JSON.parse(process.env.BENCH_LOAD ?? '') as LoadSettings;
const paths = Array.from({ length: settings.keys }, (_, n) => settings.pathPrefix + String(n));

let latencies = new Float64Array(1 << 18);
let answered = 0;
function keep(ms: number): void {
  if (answered === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[answered++] = ms;
}

const result = await new Promise<autocannon.Result>((resolve, reject) => {
  const instance = autocannon(
    {
      url: settings.url,
      connections: settings.connections,
      duration: settings.seconds,
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => {
            request.path = paths[Math.floor(Math.random() * paths.length)]!;
            return request;
          },
        },
      ],
    },
    (err, done) => (err ? reject(err as Error) : resolve(done)),
  );
  // autocannon emits (client, statusCode, bytes, milliseconds); its typings leave out the client.
  (instance as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) keep(ms);
  });
});

const sorted = latencies.subarray(0, answered).sort();
const percentile = (p: number) => (answered === 0 ? 0 : sorted[Math.min(answered - 1, Math.ceil((p / 100) * answered) - 1)]!);
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const requests = result.requests.total;
process.stdout.write(
  JSON.stringify({
    event: 'load',
    requests,
    seconds: round3(result.duration),
    requestsPerSec: Math.round(requests / result.duration),
    p50Ms: round3(percentile(50)),
    p99Ms: round3(percentile(99)),
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  }) + '\n',
);
process.exit(0);
