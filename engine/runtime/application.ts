import { randomUUID } from 'node:crypto';
import { ApplicationError, ConfigError, describeCause } from '../errors.ts';
import { KafkaAdmin } from '../kafka/admin.ts';
import { RepartitionPurge } from './repartition-purge.ts';
import type { ClientProperties, ConnectionOptions as ClientConnection } from '../kafka/config.ts';
import { KafkaConsumer } from '../kafka/consumer.ts';
import { KafkaProducer } from '../kafka/producer.ts';
import type { TopicPartition } from '../kafka/records.ts';
import { createLogger, type Logger } from '../observability/logger.ts';

export type { RunOptions } from './run-options.ts';
import type { CompiledTopology } from '../topology/compiled.ts';
import { type ApplicationDefinition, type ApplicationSettings, compileApplication } from './definition.ts';
import { resolveRunOptions, type RunOptions } from './run-options.ts';
import { applyHeapGrowing } from './heap.ts';
import { prepareTopics } from './internal-topics.ts';
import { type ApplicationState, Lifecycle } from './lifecycle.ts';
import { AtLeastOnce, type CommitProtocol, ExactlyOnce } from './commit-protocol.ts';
import { ProcessingLoop, type LoopOptions } from './processing-loop.ts';
import { RestorationTotals, restoreTasks, type RestoreProgress } from './task/restore.ts';
import { Outcome } from './outcome.ts';
import { deadLetterTopics, nodeHandlings, RecordErrors } from './record-errors.ts';
import { NodeCounts } from '../observability/node-counts.ts';
import { Tasks } from './task/tasks.ts';
import { revokePartitions } from './revocation.ts';
import { machineBackground } from './task/machine-background.ts';
import { StandbyReplicas } from './standby/standby-replicas.ts';
import { cleanUpStatePeriodically } from './state-cleanup.ts';
import { GlobalTables } from './global/global-tables.ts';
import { prepareSerdes } from './serde-preparation.ts';
import { prepareInstancesTopic } from '../iq/directory.ts';
import type { HttpOptions, QueryService } from '../iq/service.ts';
import type { Metrics } from '../observability/metrics.ts';
import { disconnectAll, ShutdownProgress } from './disconnection.ts';
import { serveInstanceQueries } from './instance-queries.ts';
import { AsyncStats } from '../observability/async-stats.ts';

/** The longest a named instance catches up before it joins the group anyway. */
const WARM_UP_TIMEOUT_MS = 10 * 60_000;

/**
 * A running instance of a topology: joins the consumer group `applicationId`, runs one task per
 * sub-topology and assigned partition, and commits at least once. Instances of the same
 * application share the partitions between them.
 *
 * @example
 * ```ts
 * const app = Application.create(definition, { bootstrapServers: '127.0.0.1:9092' });
 * process.on('SIGTERM', () => void app.close()); // before start(): a SIGTERM while it starts closes it too
 * await app.start();
 * await app.finished;
 * ```
 */
export class Application {
  readonly topology: CompiledTopology;
  readonly lifecycle = new Lifecycle();
  /** Settles when the application has stopped: resolves after `close()`, rejects on a fatal error. */
  readonly finished: Promise<void>;
  private readonly settings: ApplicationSettings & { bootstrapServers?: string };
  private readonly loopOptions: LoopOptions;
  private readonly log: Logger;
  private consumer?: KafkaConsumer;
  private producer?: KafkaProducer;
  private loop?: ProcessingLoop;
  private purge?: RepartitionPurge;
  private tasks?: Tasks;
  private globals?: GlobalTables;
  private standbys?: StandbyReplicas;
  private cleanup?: { stop(): void };
  private closing?: Promise<void>;
  private instance?: string;
  private fatal: unknown;

  private readonly stateDir: string;
  private readonly onRestoreProgress: (progress: RestoreProgress) => void;
  private readonly http: HttpOptions | undefined;
  private readonly beforeJoin: (() => Promise<void>) | undefined;
  private queries?: QueryService;
  private metrics?: Metrics;
  /** The async operators' numbers, over every task this instance runs. */
  private readonly asyncStats = new AsyncStats();
  private readonly nodes = new NodeCounts();
  private errors?: RecordErrors;
  private partitionCounts = new Map<string, number>();
  private readonly restoration = new RestorationTotals();
  private readonly heapGrowingPercent: number | false | undefined;
  private readonly shutdownTimeoutMs: number;
  private readonly shutdownProgress = new ShutdownProgress();
  private readonly instanceName: string | undefined;
  /** Settles `finished` (a shutdown that timed out settles it early). */
  private readonly outcome = new Outcome();
  /** Aborted by `close()`: a start still in progress stops at its next step. */
  private readonly stopping = new AbortController();
  private starting?: Promise<void>;
  /** Set once the processing loop runs: from then on it is the loop that closes. */
  private looping = false;

  private constructor(definition: ApplicationDefinition, options: RunOptions) {
    const resolved = resolveRunOptions(definition, options);
    if ((resolved.settings.numStreamThreads ?? 1) > 1) throw new ConfigError('numStreamThreads above 1 runs an instance as several processes: start it with launch(definition, options) or `sluice run`, not Application.create.');
    this.settings = resolved.settings;
    this.loopOptions = resolved.loop;
    this.stateDir = resolved.stateDir;
    this.shutdownTimeoutMs = resolved.shutdownTimeoutMs;
    this.instanceName = resolved.instanceName;
    this.http = options.http;
    this.beforeJoin = options.beforeJoin;
    this.heapGrowingPercent = options.heapGrowingPercent;
    const report = options.onRestoreProgress ?? (() => {});
    this.onRestoreProgress = (progress) => {
      this.restoration.count(progress);
      report(progress);
    };
    this.topology = compileApplication(definition, this.settings);
    this.log = (options.logger ?? createLogger()).child({ application: this.settings.applicationId });
    this.finished = this.outcome.promise;
    this.lifecycle.onChange((to, from) => {
      this.log.info({ from, to }, 'state changed');
      this.queries?.announce();
    });
  }

  /** Compiles the definition (throwing a TopologyError if it is invalid); nothing connects yet. */
  static create(definition: ApplicationDefinition, options: RunOptions = {}): Application {
    return new Application(definition, options);
  }

  /** This instance's id (its client id, and under exactly-once its transactional id); set by `start()`. */
  get instanceId(): string | undefined {
    return this.instance;
  }

  /** The loop's counters: records processed, commits, rewinds, pauses for an external system, damaged stores restored. */
  get progress(): { processed: number; commits: number; rewinds: number; externalPauses: number; recoveries: number } {
    const loop = this.loop;
    return { processed: loop?.processed ?? 0, commits: loop?.commits ?? 0, rewinds: loop?.rewinds ?? 0, externalPauses: loop?.externalPauses ?? 0, recoveries: loop?.recoveries ?? 0 };
  }

  get exactlyOnce(): boolean {
    return this.settings.guarantee === 'exactly_once';
  }

  get state(): ApplicationState {
    return this.lifecycle.state;
  }

  /** Where the query server answers (`http://host:port`), when it runs. */
  get endpoint(): string | undefined {
    return this.queries?.endpoint;
  }

  /** The port the query server listens on, when it runs. */
  get queryPort(): number | undefined {
    return this.queries?.port;
  }

  /** The ids of the tasks this instance runs now, e.g. `["0_1", "1_1"]`. */
  taskIds(): string[] {
    return this.tasks?.ids() ?? [];
  }

  /**
   * Prepares topics, connects, joins the group and starts processing in the background. A
   * `close()` meanwhile (a SIGTERM during a long restoration or warm-up) stops the start at its
   * next step, and the application closes without having processed anything.
   */
  async start(): Promise<void> {
    this.lifecycle.transition('STARTING');
    applyHeapGrowing(this.heapGrowingPercent);
    this.starting = this.connect().then(
      () => {
        if (!this.stopping.signal.aborted) void this.runLoop();
      },
      async (err) => {
        // A close() during the start takes over: it disconnects what was connected.
        if (this.stopping.signal.aborted) return;
        this.lifecycle.transition('ERROR');
        await this.disconnect();
        this.outcome.reject(err);
        throw err;
      },
    );
    return this.starting;
  }

  /**
   * Finishes the batch in flight, commits, leaves the group and disconnects, within
   * `shutdownTimeoutMs`: past it, what is not done is left (the records not committed are
   * processed again at the next start), the state becomes ERROR and `finished` rejects.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.lifecycle.is('NOT_RUNNING', 'ERROR')) return;
      this.lifecycle.transition('PENDING_SHUTDOWN');
      this.stopping.abort();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.shutdownTimeoutMs)));
      const done = (async () => {
        await this.starting?.catch(() => undefined);
        if (this.looping) {
          this.loop!.stop();
          await this.finished.catch(() => undefined);
        } else {
          await this.disconnect();
          this.lifecycle.transition('NOT_RUNNING');
          this.outcome.resolve();
        }
        return 'done' as const;
      })();
      if ((await Promise.race([done, late])) === 'late') this.abandonShutdown();
      clearTimeout(timer);
    })();
    return this.closing;
  }

  /** Stops a start that a `close()` overtook (what it connected is disconnected by the close). */
  private stillStarting(): void {
    if (this.stopping.signal.aborted) throw new ApplicationError('The application was closed while it started.');
  }

  /** The shutdown took too long: it goes on in the background, but the application is given up. */
  private abandonShutdown(): void {
    const err = new ApplicationError(
      `Shutdown did not finish within ${this.shutdownTimeoutMs} ms (shutdownTimeoutMs), at its step "${this.shutdownProgress.step}": the brokers or an external system did not answer in time. ` +
        'What was not committed is processed again at the next start.',
    );
    this.log.error({ err: err.message }, 'shutdown timed out; giving up on what was not finished');
    if (!this.lifecycle.is('ERROR', 'NOT_RUNNING')) this.lifecycle.transition('ERROR');
    this.outcome.reject(err);
  }

  private async connect(): Promise<void> {
    const { applicationId, bootstrapServers, kafka } = this.settings;
    // A named instance is a static member of the group, under the same id at every start.
    const { instanceName } = this;
    const instance = (this.instance = `${applicationId}-${instanceName ?? randomUUID().slice(0, 8)}`);
    const connection: ClientConnection = { bootstrapServers, properties: kafka, clientId: instance };
    const dlqs = deadLetterTopics(nodeHandlings(this.topology.subtopologies.flatMap((s) => s.nodes)));
    const admin = KafkaAdmin.connect(connection);
    let counts: Map<string, number>;
    try {
      counts = await prepareTopics(admin, this.topology, dlqs);
      if (this.http) await prepareInstancesTopic(admin, applicationId);
    } finally {
      admin.disconnect();
    }
    await prepareSerdes(this.topology, this.log);
    this.stillStarting();
    this.producer = await KafkaProducer.connect({
      ...connection,
      // Under exactly-once the group metadata sent with each transaction's offsets fences
      // zombies, so the transactional id needs only to be unique to this instance.
      transactionalId: this.exactlyOnce ? instance : undefined,
      logger: this.log.child({ component: 'producer' }),
    });
    await this.producer.loadPartitionCounts([...counts.keys()]);
    this.stillStarting();
    this.producer.trackDeliveredOffsets(this.topology.stores.filter((s) => !s.sourceChangelog).map((s) => s.changelogTopic));
    this.partitionCounts = counts;
    const errors = (this.errors = new RecordErrors(this.producer, this.log));
    const committed = (partitions: TopicPartition[]) => this.consumer!.committed(partitions, 60_000);
    this.tasks = new Tasks(
      this.topology,
      { producer: this.producer, errors, nodes: this.nodes, log: this.log, clock: Date.now, globals: (name) => this.globals?.lookup(name), background: machineBackground(this.asyncStats, this.exactlyOnce) },
      {
        stateDir: this.stateDir,
        applicationId,
        restore: (states, upTo) => restoreTasks(states, connection, this.log, this.onRestoreProgress, { upTo, committed }),
        committed,
      },
    );
    this.consumer = await KafkaConsumer.connect({
      ...connection,
      properties: { 'fetch.wait.max.ms': 100, ...(instanceName === undefined ? {} : { 'group.instance.id': instance }), ...kafka } satisfies ClientProperties,
      groupId: applicationId,
      logger: this.log.child({ component: 'consumer' }),
      rebalance: { assigned: (partitions) => this.onAssigned(partitions), revoked: (partitions, lost) => this.onRevoked(partitions, lost) },
    });
    this.stillStarting();
    const protocol: CommitProtocol = this.exactlyOnce ? new ExactlyOnce(this.producer, this.consumer, this.log) : new AtLeastOnce(this.producer, this.consumer, this.log);
    this.loop = new ProcessingLoop({ source: this.consumer, output: this.producer, protocol, tasks: this.tasks, options: this.loopOptions, log: this.log });
    const repartitions = new Set(this.topology.internalTopics.filter((t) => t.kind === 'repartition').map((t) => t.name));
    if (repartitions.size > 0) {
      const purge = (this.purge = new RepartitionPurge(KafkaAdmin.connect(connection), repartitions, this.settings.repartitionPurgeIntervalMs ?? 30_000, this.log));
      this.loop.onOffsetsCommitted = (offsets) => purge.committed(offsets);
    }
    // Global tables are restored before the subscription below brings tasks; failing to follow them stops the loop.
    const globalOptions = { connection, stateDir: this.stateDir, applicationId, log: this.log, errors, partitions: (topic: string) => counts.get(topic), checkpointIntervalMs: this.loopOptions.commitIntervalMs };
    this.globals = await GlobalTables.start(this.topology, { ...globalOptions, onProgress: this.onRestoreProgress, onFatal: (err) => this.fail(err, 'a global table could not be kept up to date') });
    this.stillStarting();
    // Standby replicas, and for a named instance the warm-up before it joins.
    const replicas = this.settings.numStandbyReplicas ?? 0;
    if (replicas > 0 || instanceName !== undefined) {
      const tasks = this.tasks;
      this.standbys = await StandbyReplicas.start({ replicas, applicationId, clientId: instance, topology: this.topology, partitions: (topic) => counts.get(topic), active: () => [...tasks.ids(), ...tasks.restoringIds()], stateDir: this.stateDir, connection, log: this.log });
    }
    if (this.http) await this.serveQueries(this.http, connection);
    this.stillStarting();
    const closed = new Promise<void>((resolve) => this.stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
    if (instanceName !== undefined) await this.standbys?.warmUp(instance, this.settings.acceptableRecoveryLag ?? 10_000, WARM_UP_TIMEOUT_MS, this.stopping.signal);
    await Promise.race([this.beforeJoin?.(), closed]);
    this.stillStarting();
    this.cleanup = cleanUpStatePeriodically(this.stateDir, applicationId, this.settings.stateCleanupDelayMs ?? 600_000, this.log);
    this.consumer.subscribe(this.topology.subtopologies.flatMap((s) => s.sourceTopics));
    this.lifecycle.transition('REBALANCING');
  }

  private async runLoop(): Promise<void> {
    this.looping = true;
    let failure: unknown;
    let committed = false;
    try {
      committed = await this.loop!.run();
    } catch (err) {
      failure = err;
    }
    failure ??= this.fatal;
    if (failure !== undefined) this.log.error({ err: describeCause(failure) }, 'application stopped on an error');
    // Everything processed is committed: standby copies may answer for these tasks until they run again.
    else if (committed) {
      this.shutdownProgress.step = 'handing the tasks over to the standby replicas';
      await this.queries?.handOver(this.tasks!.changelogPositions());
    }
    await this.disconnect();
    this.shutdownProgress.step = 'closing the tasks';
    await this.tasks?.closeAll();
    // A shutdown that timed out has settled everything already.
    if (this.outcome.done) return;
    if (failure === undefined) {
      this.lifecycle.transition('NOT_RUNNING');
      this.outcome.resolve();
    } else {
      if (!this.lifecycle.is('ERROR')) this.lifecycle.transition('ERROR');
      this.outcome.reject(failure);
    }
  }

  private async onAssigned(partitions: TopicPartition[]): Promise<void> {
    try {
      // The tasks fetch their committed offsets first (for the stream time kept with them).
      // Under exactly-once that also waits until the previous owner's last transaction is
      // settled (committed or aborted), before the changelogs are read to their last stable
      // offset: read_committed asks for stable offsets.
      // A task that becomes active here takes its stores from the standby that kept them warm.
      await this.standbys?.beforeAssign(partitions);
      await this.tasks!.assign(partitions);
      await this.tasks!.closeKept();
      this.standbys?.afterAssign();
    } catch (err) {
      // Without its state a task cannot run: stop rather than process on an empty store.
      this.log.error({ err: describeCause(err) }, 'could not open or restore the state of assigned tasks');
      this.fatal = err;
      this.loop?.stop();
      return;
    }
    this.log.info({ partitions: partitions.map((p) => `${p.topic}[${p.partition}]`), tasks: this.taskIds() }, 'partitions assigned');
    if (this.lifecycle.is('REBALANCING', 'STARTING')) this.lifecycle.transition('RUNNING');
  }

  private async onRevoked(partitions: TopicPartition[], lost: boolean): Promise<void> {
    if (this.lifecycle.is('RUNNING')) this.lifecycle.transition('REBALANCING');
    await revokePartitions(this.loop!, this.tasks!, { partitions, lost }, { log: this.log, fail: (err, what) => this.fail(err, what) });
  }

  /** Starts the query server and joins the directory of instances; metrics start with it. */
  private async serveQueries(http: HttpOptions, connection: ClientConnection): Promise<void> {
    const instance = { applicationId: this.settings.applicationId, instanceId: this.instance!, topology: this.topology, tasks: this.tasks!, loop: this.loop!, producer: this.producer!, errors: this.errors! };
    const served = await serveInstanceQueries(
      { ...instance, consumer: () => this.consumer, globals: this.globals, lifecycle: this.lifecycle, asyncStats: this.asyncStats, nodes: this.nodes, restoration: () => this.restoration, partitions: (topic) => this.partitionCounts.get(topic), standbys: () => this.standbys?.tasks.lags() ?? {}, standby: (id, store) => this.standbys?.tasks.copy(id, store), copyAt: (id, store, positions) => this.standbys?.tasks.copyAt(id, store, positions) },
      http,
      connection,
      this.log,
    );
    this.queries = served.queries;
    this.metrics = served.metrics;
  }

  /** Stops the application on an error it cannot go on after. */
  private fail(err: unknown, what: string): void {
    this.log.error({ err: describeCause(err) }, what);
    this.fatal ??= err;
    this.loop?.stop();
  }

  private async disconnect(): Promise<void> {
    const { queries, loop, consumer, producer, purge, cleanup, standbys, globals } = this;
    this.queries = this.purge = this.standbys = this.globals = undefined;
    await disconnectAll({ queries, loop, consumer, producer, purge, cleanup, standbys, globals }, this.shutdownProgress, this.log);
  }
}
