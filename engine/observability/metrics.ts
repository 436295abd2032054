import client from 'prom-client';
import { MetricNames, PROCESS_METRICS_PREFIX } from './metric-names.ts';

/** What the metrics read from a running application, at each scrape. */
export interface MetricsSource {
  consumed(): Map<string, number>;
  produced(): Map<string, number>;
  processed(): number;
  commits(): number;
  rewinds(): number;
  /** Consumer lag (high watermark minus position) of each partition read. */
  lag(): Array<{ topic: string; partition: number; lag: number }>;
  restore(): { restored: number; remaining: number };
  deadLettered(): number;
  skipped(): number;
  /** Records windowed operators dropped as late, by store. */
  late(): Map<string, number>;
  /** Records operators dropped by their specification (a join's null key), by operator. */
  dropped(): Map<string, number>;
  /** Records that reached each node of the topology, by node. */
  nodeRecords(): Map<string, number>;
  /** Records that failed in each node (handled as its `onError` says), by node. */
  nodeErrors(): Map<string, number>;
  storeSizes(): Promise<Array<{ store: string; partition: number; bytes: number }>>;
  tasks(): { running: number; restoring: number };
  /** The standby replicas here, each with its lag in changelog records. */
  standbys(): Record<string, number>;
  state(): string;
}

const STATES = ['CREATED', 'STARTING', 'REBALANCING', 'RUNNING', 'PENDING_SHUTDOWN', 'NOT_RUNNING', 'ERROR'];
/** Over how long `sluice_process_rate` is averaged. */
const RATE_WINDOW_MS = 10_000;

/**
 * The Prometheus metrics of one application instance, in a registry of its own (several
 * applications may share a process). Counters the engine keeps as plain numbers on its hot path
 * are read at scrape time, so processing never pays for a metric update.
 */
export class Metrics {
  readonly registry = new client.Registry();
  readonly commitLatency: client.Histogram;
  readonly httpRequests: client.Counter<'route' | 'status'>;
  readonly httpDuration: client.Histogram<'route'>;
  private readonly samples: Array<{ at: number; processed: number }> = [];

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    const total = (name: string, help: string, read: () => number) =>
      new client.Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
    /** A counter per value of one label, read whole at each scrape. */
    const labelled = (name: string, help: string, label: string, read: () => Map<string, number>) =>
      new client.Counter({
        name,
        help,
        labelNames: [label],
        registers,
        collect() {
          this.reset();
          for (const [value, n] of read()) this.inc({ [label]: value }, n);
        },
      });
    labelled(MetricNames.recordsConsumed, 'Records consumed, per topic.', 'topic', () => source.consumed());
    labelled(MetricNames.recordsProduced, 'Records produced (outputs, changelogs, repartitions, dead letters), per topic.', 'topic', () => source.produced());
    total(MetricNames.recordsProcessed, 'Records processed.', () => source.processed());
    total(MetricNames.commits, 'Commits that made progress durable.', () => source.commits());
    total(MetricNames.rewinds, 'Times the tasks went back to the last commit (exactly-once, after an abort).', () => source.rewinds());
    total(MetricNames.deadLetterRecords, 'Records sent to a dead-letter topic.', () => source.deadLettered());
    total(MetricNames.skippedRecords, 'Records skipped by a log-and-continue handler.', () => source.skipped());
    labelled(MetricNames.lateRecords, 'Records dropped by windowed operators because their windows had closed (stream time past window end plus grace), per store.', 'store', () => source.late());
    labelled(MetricNames.droppedRecords, 'Records operators dropped as specified (a join skipping a record whose key or value is null), per operator.', 'operator', () => source.dropped());
    labelled(MetricNames.nodeRecords, 'Records that reached each node of the topology (a source: records read).', 'node', () => source.nodeRecords());
    labelled(MetricNames.nodeErrors, 'Records that failed in each node, whatever its error handling then did with them.', 'node', () => source.nodeErrors());
    total(MetricNames.restoredRecords, 'Changelog records replayed into stores.', () => source.restore().restored);
    const samples = this.samples;
    new client.Gauge({
      name: MetricNames.processRate,
      help: `Records processed per second, over the last ${RATE_WINDOW_MS / 1000} s.`,
      registers,
      collect() {
        const now = Date.now();
        samples.push({ at: now, processed: source.processed() });
        while (samples.length > 2 && now - samples[1]!.at >= RATE_WINDOW_MS) samples.shift();
        const first = samples[0]!;
        const seconds = (now - first.at) / 1000;
        this.set(seconds > 0 ? (source.processed() - first.processed) / seconds : 0);
      },
    });
    new client.Gauge({
      name: MetricNames.restoreRemaining,
      help: 'Changelog records still to replay before the restoring tasks can run.',
      registers,
      collect() { this.set(source.restore().remaining); },
    });
    new client.Gauge({
      name: MetricNames.consumerLag,
      help: 'Records between the consumer position and the end of each partition read.',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const { topic, partition, lag } of source.lag()) this.set({ topic, partition: String(partition) }, lag);
      },
    });
    new client.Gauge({
      name: MetricNames.storeSize,
      help: 'Approximate size on disk of each store partition, in bytes.',
      labelNames: ['store', 'partition'],
      registers,
      async collect() {
        this.reset();
        for (const { store, partition, bytes } of await source.storeSizes()) this.set({ store, partition: String(partition) }, bytes);
      },
    });
    new client.Gauge({
      name: MetricNames.tasks,
      help: 'Tasks of this instance, by state.',
      labelNames: ['state'],
      registers,
      collect() {
        const { running, restoring } = source.tasks();
        this.set({ state: 'running' }, running);
        this.set({ state: 'restoring' }, restoring);
        this.set({ state: 'standby' }, Object.keys(source.standbys()).length);
      },
    });
    new client.Gauge({
      name: MetricNames.standbyLag,
      help: 'Changelog records each standby replica has not applied yet.',
      labelNames: ['task'],
      registers,
      collect() {
        this.reset();
        for (const [task, lag] of Object.entries(source.standbys())) this.set({ task }, lag);
      },
    });
    new client.Gauge({
      name: MetricNames.applicationState,
      help: 'The application state: 1 for the current one.',
      labelNames: ['state'],
      registers,
      collect() {
        const current = source.state();
        for (const state of STATES) this.set({ state }, state === current ? 1 : 0);
      },
    });
    this.commitLatency = new client.Histogram({
      name: MetricNames.commitLatency,
      help: 'Time to commit: flush stores, deliver outputs (or commit the transaction), commit offsets, write state.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.httpRequests = new client.Counter({ name: MetricNames.httpRequests, help: 'Query server requests, by route and status.', labelNames: ['route', 'status'], registers });
    this.httpDuration = new client.Histogram({
      name: MetricNames.httpDuration,
      help: 'Query server response time, by route.',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    client.collectDefaultMetrics({ register: this.registry, prefix: PROCESS_METRICS_PREFIX });
  }

  /** The metrics in Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
