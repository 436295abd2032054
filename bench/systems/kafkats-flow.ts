/**
 * The @kafkats/flow peer (a Kafka Streams-like DSL on its own pure-TypeScript client): the
 * `stateless` workload as filter + mapValues, `stateful-count` as groupByKey().count() (an
 * in-memory store with a changelog). At-least-once with the harness's commit interval. It has
 * no record cache, so the count writes one update per record.
 *
 * Installed by the harness into the peers' directory (bench/peers/home.ts), not with Sluice;
 * the few types used here are declared locally for that reason.
 */
import { enrich, keep, type StatelessEvent } from '../workloads/stateless.ts';
import { importNodePeer } from '../peers/home.ts';
import { announceReady, settingsFromEnv, trackMemory } from './protocol.ts';

interface Codec<T> {
  encode(value: T): Buffer;
  decode(bytes: Buffer): T;
}
interface Stream<K, V> {
  filter(fn: (key: K | null, value: V | null) => boolean): Stream<K, V>;
  mapValues<V2>(fn: (value: V | null) => V2 | null): Stream<K, V2>;
  groupByKey(options?: { key?: Codec<K>; value?: Codec<V> }): { count(options?: { storeName?: string }): { toStream(): Stream<K, number> } };
  to(topic: string, options?: { key?: Codec<K>; value?: Codec<V> }): void;
}
interface FlowApp {
  stream<K, V>(topic: string, options?: { key?: Codec<K>; value?: Codec<V>; offsetReset?: 'earliest' }): Stream<K, V>;
  start(): Promise<void>;
  close(): Promise<void>;
  state(): string;
}
interface FlowModule {
  flow(config: Record<string, unknown>): FlowApp;
  json<T>(): Codec<T>;
  string(): Codec<string>;
  buffer(): Codec<Buffer>;
}

const settings = settingsFromEnv();
const memory = trackMemory();
const workload = process.env.BENCH_WORKLOAD ?? 'stateless';
const { flow, json, string, buffer } = await importNodePeer<FlowModule>('@kafkats/flow');

const app = flow({
  applicationId: settings.group,
  client: { brokers: [settings.bootstrapServers], clientId: settings.group, logLevel: 'warn' },
  processingGuarantee: 'at_least_once',
  commitIntervalMs: settings.commitIntervalMs,
  runEach: { autoCommit: true, autoCommitIntervalMs: settings.commitIntervalMs },
});

if (workload === 'stateless') {
  app
    .stream<Buffer, StatelessEvent>(settings.input, { key: buffer(), value: json<StatelessEvent>(), offsetReset: 'earliest' })
    .filter((_, event) => keep(event!))
    .mapValues((event) => enrich(event!))
    .to(settings.output, { key: buffer(), value: json() });
} else {
  app
    .stream<string, Buffer>(settings.input, { key: string(), value: buffer(), offsetReset: 'earliest' })
    .groupByKey({ key: string(), value: buffer() })
    .count({ storeName: 'counts' })
    .toStream()
    .to(settings.output, { key: string(), value: json<number>() });
}

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
  void app.close().then(() => {
    memory.report();
    process.exit(0);
  });
});
await app.start();
// start() returns once the consumer runs; RUNNING is set when partitions are assigned.
while (!stopping && app.state() !== 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 20));
if (!stopping) announceReady();
