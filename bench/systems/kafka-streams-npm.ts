/**
 * The `kafka-streams` npm package (nodefluent) peer, on its default JavaScript client (sinek
 * over kafka-node). `stateless` as map + filter + map; `stateful-count` as countByKey over an
 * in-memory KStorage, one output per record. Its consumer auto-commits (kafka-node's default),
 * the only mode its JavaScript client offers.
 *
 * Installed by the harness into the peers' directory (bench/peers/home.ts), not with Sluice;
 * the few types used here are declared locally for that reason.
 */
import { enrich, keep, type StatelessEvent } from '../workloads/stateless.ts';
import { importNodePeer } from '../peers/home.ts';
import { announceReady, settingsFromEnv, trackMemory } from './protocol.ts';

interface Message {
  key: Buffer | string | null;
  value: Buffer | string;
  partition: number;
  timestamp?: Date | number;
}
interface Stream {
  map(fn: (message: never) => unknown): Stream;
  filter(fn: (message: never) => boolean): Stream;
  countByKey(key?: string, countFieldName?: string): Stream;
  to(topic: string, partitions?: number | 'auto', produceType?: 'send' | 'buffer' | 'bufferFormat'): Promise<boolean>;
  start(readyCallback?: () => void, kafkaErrorCallback?: (error: Error) => void): Promise<void>;
}
interface Factory {
  getKStream(topic: string): Stream;
  closeAll(): Promise<unknown>;
}
interface Module {
  KafkaStreams: new (config: Record<string, unknown>) => Factory;
}

const settings = settingsFromEnv();
const memory = trackMemory();
const workload = process.env.BENCH_WORKLOAD ?? 'stateless';
const { KafkaStreams } = (await importNodePeer<{ default?: Module } & Module>('kafka-streams')).default ?? (await importNodePeer<Module>('kafka-streams'));

const factory = new KafkaStreams({
  kafkaHost: settings.bootstrapServers,
  groupId: settings.group,
  clientName: settings.group,
  workerPerPartition: 1,
  options: {
    sessionTimeout: 10_000,
    protocol: ['roundrobin'],
    fromOffset: 'earliest',
    fetchMaxBytes: 1024 * 1024,
    fetchMinBytes: 1,
    fetchMaxWaitMs: 100,
    autoCommit: true,
    autoCommitIntervalMs: settings.commitIntervalMs,
    requireAcks: 1,
  },
});

const text = (v: Buffer | string | null) => (v === null ? '' : typeof v === 'string' ? v : v.toString());
const stream = factory.getKStream(settings.input);
if (workload === 'stateless') {
  stream
    .map((m: Message) => ({ key: m.key, event: JSON.parse(text(m.value)) as StatelessEvent }))
    .filter((r: { event: StatelessEvent }) => keep(r.event))
    .map((r: { key: Buffer | string | null; event: StatelessEvent }) => ({ key: r.key, value: JSON.stringify(enrich(r.event)) }));
} else {
  stream
    .map((m: Message) => ({ key: text(m.key) }))
    .countByKey('key', 'count')
    .map((r: { key: string; count: number }) => ({ key: r.key, value: String(r.count) }));
}
const produced = stream.to(settings.output, 'auto', 'buffer');

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
  void factory.closeAll().then(() => {
    memory.report();
    process.exit(0);
  });
});
await stream.start(
  () => {
    if (!stopping) announceReady();
  },
  (error) => process.stderr.write(`kafka-streams: ${error.message}\n`),
);
await produced;
