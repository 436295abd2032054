/**
 * The `async-enrich` workload: each record's value is enriched by a call to a local HTTP service
 * (systems/enrich-service, a Go program in a process of its own) that answers after 10–30 ms.
 *
 * - Input: record `i` has key `user-<n>` (a fixed hash of `i` over the keys, as the count
 *   workloads) and the value `{"id":i,"pad":"x…"}`, `valueSize` bytes.
 * - The call: `GET /enrich?key=<key>&value=<id>` over keep-alive connections; the service waits
 *   a delay drawn uniformly from the params' range, then answers `{"key","value","segment","score"}`,
 *   `segment` and `score` a fixed function of the key (`enrichmentOf`).
 * - Output: `{"id","segment","score"}` under the input's key, one per input record.
 *
 * Every system uses the one client here (`EnrichClient`: undici's `Client`s, 256 connections
 * kept alive), so they compare on how they drive it, not on the HTTP client. Node's
 * global `fetch` is not used: on this machine it costs about 240 µs of CPU per call against
 * about 60 µs for `http.get` (bench/README.md); with the `Pool` the hand-written loop used 68 µs
 * of CPU per record in all, against 88 with `http.get`.
 */
import { Client, type Dispatcher } from 'undici';
import type { BenchService } from '../catalogue.ts';
import type { BenchContext, Params } from '../context.ts';
import { prepareSystem } from '../peers/launchers.ts';
import type { SystemProcess } from '../system-process.ts';
import { keyIndex, keyName } from './stateful.ts';

/** The workload's params beside the input's size. */
export interface EnrichParams {
  /** The service answers after a delay drawn uniformly from this range, in ms. */
  delayMs: [number, number];
  /** Calls in flight: Sluice's `concurrency` option (per task), the raw client's pool. */
  concurrency: number;
}

export function enrichParams(): EnrichParams {
  return { delayMs: [10, 30], concurrency: 256 };
}

function enrichOf(p: Params): EnrichParams {
  if (!p.enrich) throw new Error('async-enrich needs params.enrich');
  return p.enrich;
}

/** The most a system can do with `concurrency` calls in flight, each taking the mean delay: 256 / 20 ms = 12,800 records/s. */
export function enrichBound(p: Params): { recordsPerSec: number; what: string } {
  const { delayMs, concurrency } = enrichOf(p);
  const meanMs = (delayMs[0] + delayMs[1]) / 2;
  return { recordsPerSec: Math.round((concurrency * 1000) / meanMs), what: `${concurrency} calls in flight / ${meanMs} ms mean service delay` };
}

/** What the systems read besides the service's address (`BENCH_SERVICE`, from the running service). */
export function enrichEnv(p: Params): Record<string, string> {
  return { BENCH_CONCURRENCY: String(enrichOf(p).concurrency) };
}

const SEGMENTS = ['retail', 'business', 'partner', 'staff'];

/** The enrichment the service gives a key: a fixed function of it (FNV-1a of its characters). */
export function enrichmentOf(key: string): { segment: string; score: number } {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h >>>= 0;
  return { segment: SEGMENTS[h % SEGMENTS.length]!, score: (h >>> 8) % 1000 };
}

/** What the service answers. */
export interface Enrichment {
  key: string;
  value: string;
  segment: string;
  score: number;
}

/** What every system writes for an input record: its id, and its key's enrichment. */
export interface EnrichedRecord {
  id: number;
  segment: string;
  score: number;
}

/**
 * The HTTP client every system calls the service with: undici's `Client`s (Sluice's own HTTP
 * client library), 256 connections kept alive (as many as calls in flight), one call at a time
 * on each. A call takes an idle connection from a stack and puts it back when answered; with
 * none idle it waits for the next one freed. Not undici's `Pool`: it finds an idle connection by
 * scanning all of them on every call (4% of the Sluice process's CPU in a profiled round).
 */
export class EnrichClient {
  private readonly clients: Client[] = [];
  private readonly idle: Client[] = [];
  private readonly waiting: EnrichCall[] = [];

  /** `url`: the service's address, `http://127.0.0.1:<port>` (`BENCH_SERVICE`). */
  constructor(url: string, connections = 256) {
    for (let i = 0; i < connections; i++) this.clients.push(new Client(url, { pipelining: 1 }));
    this.idle.push(...this.clients);
  }

  static fromEnv(): EnrichClient {
    const url = process.env.BENCH_SERVICE;
    if (!url) throw new Error('BENCH_SERVICE (the enrichment service) is not set');
    return new EnrichClient(url);
  }

  /**
   * Enriches input record `id` of `key`: calls the service and makes the output value of its
   * answer. Through the connection's `dispatch` (undici's lowest level): its `request` wraps each
   * answer's body in a stream, which cost about a quarter more CPU per call here (bench/README.md).
   */
  enrich(key: string, id: number, signal?: AbortSignal): Promise<EnrichedRecord> {
    return new Promise((resolve, reject) => {
      const call = new EnrichCall(`/enrich?key=${encodeURIComponent(key)}&value=${id}`, id, signal, resolve, reject, this);
      const client = this.idle.pop();
      if (client === undefined) this.waiting.push(call);
      else call.start(client);
    });
  }

  /** A call is over: its connection goes to the call waiting longest, or back to the idle ones. */
  release(client: Client): void {
    const next = this.waiting.shift();
    if (next === undefined) this.idle.push(client);
    else next.start(client);
  }

  close(): void {
    for (const client of this.clients) void client.destroy();
  }
}

/** One call's answer, gathered as undici hands it over (a class: its methods made once, not per call). */
class EnrichCall implements Dispatcher.DispatchHandler {
  private readonly chunks: Buffer[] = [];
  private status = 0;
  private abort: (() => void) | undefined;
  private client: Client | undefined;

  constructor(
    private readonly path: string,
    private readonly id: number,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (record: EnrichedRecord) => void,
    private readonly reject: (error: Error) => void,
    private readonly owner: EnrichClient,
  ) {}

  start(client: Client): void {
    this.client = client;
    client.dispatch({ path: this.path, method: 'GET' }, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    const signal = this.signal;
    if (signal === undefined) return;
    this.abort = () => controller.abort(signal.reason);
    if (signal.aborted) this.abort();
    else signal.addEventListener('abort', this.abort, { once: true });
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.settled();
    const text = (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)).toString('utf8');
    if (this.status !== 200) {
      this.reject(new Error(`the enrichment service answered ${this.status}: ${text}`));
      return;
    }
    try {
      const answer = JSON.parse(text) as Enrichment;
      this.resolve({ id: this.id, segment: answer.segment, score: answer.score });
    } catch (err) {
      this.reject(err as Error);
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.settled();
    this.reject(error);
  }

  /** Lets go of the signal and hands the connection on. */
  private settled(): void {
    if (this.abort !== undefined) this.signal!.removeEventListener('abort', this.abort);
    this.owner.release(this.client!);
  }
}

/** What the service counts (its `GET /stats`); `peakInFlight` is since the previous read. */
export interface ServiceStats {
  atMs: number;
  calls: number;
  /** Calls in flight integrated over time, in call-milliseconds. */
  inFlightMs: number;
  peakInFlight: number;
  cpuMs: number;
}

/**
 * Builds the service and starts it in its child process, and measures each run
 * between ready and done: the calls it answered, how many were in flight on average and at most
 * (records/s is at most that mean over the mean delay), and the CPU it and the system used.
 */
export async function startEnrichService(ctx: BenchContext, p: Params): Promise<BenchService> {
  const [minMs, maxMs] = enrichOf(p).delayMs;
  await prepareSystem('enrich-service', ctx.say);
  const child = ctx.launch('enrich-service', { BENCH_DELAY_MS: `${minMs},${maxMs}` });
  try {
    await child.until('endpoint', () => child.saw('endpoint'), 60_000);
  } catch (err) {
    child.kill();
    throw err;
  }
  const url = child.event<{ url: string }>('endpoint').url;
  ctx.say(`The enrichment service answers at ${url} after ${minMs}–${maxMs} ms`);
  const stats = async () => (await (await fetch(`${url}/stats`)).json()) as ServiceStats;
  return {
    env: { BENCH_SERVICE: url },
    async measure(system: SystemProcess) {
      const before = await stats();
      const systemCpuBefore = system.cpuSeconds();
      return async () => {
        const after = await stats();
        const systemCpu = system.cpuSeconds();
        const seconds = (after.atMs - before.atMs) / 1000;
        return {
          service: {
            calls: after.calls - before.calls,
            meanInFlight: Math.round((after.inFlightMs - before.inFlightMs) / (after.atMs - before.atMs)),
            peakInFlight: after.peakInFlight,
            cpuSeconds: Number(((after.cpuMs - before.cpuMs) / 1000).toFixed(2)),
            seconds: Number(seconds.toFixed(2)),
          },
          ...(systemCpu !== undefined && systemCpuBefore !== undefined ? { cpuSeconds: Number((systemCpu - systemCpuBefore).toFixed(2)) } : {}),
        };
      };
    },
    stop: () => child.stop(),
  };
}

/**
 * Checks a system's output: each of the first `records` input records (all of them, unless the
 * system ran over a prefix) must have an output under its key, with its key's enrichment.
 * Missing, wrong or malformed outputs fail the run; a record written twice fails it only under
 * exactly-once (at-least-once may repeat records after a restart: counted, not failed).
 * Outputs of records past the prefix are counted as `beyond` and otherwise ignored.
 */
export class EnrichedOutputChecker {
  private readonly seen: Uint8Array;
  outputs = 0;
  wrong = 0;
  duplicates = 0;
  malformed = 0;
  beyond = 0;

  constructor(
    private readonly p: Params,
    private readonly run: { records: number; exactlyOnce: boolean },
  ) {
    this.seen = new Uint8Array(p.records);
  }

  add(key: Buffer | null, value: Buffer | null): void {
    this.outputs++;
    let record: Partial<EnrichedRecord> | undefined;
    try {
      record = JSON.parse(value?.toString('utf8') ?? 'null') as Partial<EnrichedRecord> | undefined;
    } catch {
      record = undefined;
    }
    const id = record?.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.p.records) {
      this.malformed++;
      return;
    }
    if (id >= this.run.records) {
      this.beyond++;
      return;
    }
    const expectedKey = enrichKey(id, this.p);
    const expected = enrichmentOf(expectedKey);
    if (key?.toString('utf8') !== expectedKey || record!.segment !== expected.segment || record!.score !== expected.score) this.wrong++;
    if (this.seen[id] === 1) this.duplicates++;
    this.seen[id] = 1;
  }

  result(): { ok: boolean; outputs: number; records: number; missing: number; wrong: number; duplicates: number; malformed: number; beyond: number } {
    let missing = 0;
    for (let i = 0; i < this.run.records; i++) if (this.seen[i] === 0) missing++;
    const ok = missing === 0 && this.wrong === 0 && this.malformed === 0 && (!this.run.exactlyOnce || this.duplicates === 0);
    return { ok, outputs: this.outputs, records: this.run.records, missing, wrong: this.wrong, duplicates: this.duplicates, malformed: this.malformed, beyond: this.beyond };
  }
}

/** The key of input record `i`. */
export function enrichKey(i: number, p: Params): string {
  return keyName(keyIndex(i, p.keys, 'hashed'));
}
