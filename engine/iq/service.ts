import type { ConnectionOptions } from '../kafka/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { CompiledStore } from '../topology/compiled.ts';
import type { TopologyDescription } from '../topology/describe.ts';
import type { CompiledRoute } from './routes.ts';
import { InstanceDirectory, type InstanceState, type KnownInstance } from './directory.ts';
import { ForwardingKey } from './forwarding.ts';
import type { LocalGlobalStore } from './global-queries.ts';
import { HttpPeers, type PeerAnswer } from './peers.ts';
import { QueryError } from './query-error.ts';
import { type LocalTask, type QueryLimits, StoreQueries } from './queries.ts';
import { QueryServer, type QueryServerOptions } from './server.ts';
import { TopicWriter } from './topic-writer.ts';
import { DeadLetters } from './dead-letters.ts';
import type { StaleCopy } from './stale-reads.ts';
import type { CommittedReader } from '../../state/committed-reader.ts';

/** How to serve interactive queries: the server's settings, and optionally the limits and directory timing. */
export interface HttpOptions extends QueryServerOptions {
  limits?: Partial<QueryLimits>;
  /** How often this instance announces itself. Default 1 s. */
  heartbeatMs?: number;
  /** When a silent instance counts as gone. Default 5 heartbeats. */
  staleAfterMs?: number;
}

/** The running application, as the query service sees it. */
export interface InstanceView {
  readonly applicationId: string;
  readonly instanceId: string;
  readonly stores: readonly CompiledStore[];
  /** The global tables' stores, queried from this instance's copy. */
  readonly globalStores: readonly LocalGlobalStore[];
  /** Routes the topology's operators brought (an extension's). */
  readonly routes: readonly CompiledRoute[];
  /** Its dead-letter topics, and the topics its sources read (where dead letters are replayed to). */
  readonly deadLetterTopics: readonly string[];
  readonly sourceTopics: readonly string[];
  /** The topology as `sluice describe --format json` shows it, for `GET /v1/topology`. */
  readonly description: TopologyDescription;
  partitions(store: CompiledStore): number | undefined;
  local(taskId: string, store: string): LocalTask;
  /** Every task here and where it stands. */
  tasks(): Record<string, 'running' | 'restoring'>;
  /** The standby replicas here, each with its lag (changelog records not applied yet). */
  standbys(): Record<string, number>;
  /** This instance's standby copy of a task's store, for `?stale=true` lookups. */
  standby(taskId: string, store: string): StaleCopy | undefined;
  /** This instance's standby copy of a task's store if it is at exactly these changelog positions (a hand-over's). */
  copyAt(taskId: string, store: string, positions: Record<string, number>): CommittedReader<unknown, unknown> | undefined;
  state(): InstanceState;
}

/**
 * Interactive queries for one instance: the HTTP server, the directory of instances it routes
 * by, and the connections to peers it forwards to.
 */
export class QueryService {
  private readonly view: InstanceView;
  private readonly server: QueryServer;
  private readonly directory: InstanceDirectory;
  private readonly peers: HttpPeers;
  private readonly topics: TopicWriter;

  private constructor(view: InstanceView, server: QueryServer, directory: InstanceDirectory, peers: HttpPeers, topics: TopicWriter) {
    this.view = view;
    this.server = server;
    this.directory = directory;
    this.peers = peers;
    this.topics = topics;
  }

  static async start(view: InstanceView, options: HttpOptions, deps: { connection: ConnectionOptions; metrics: Metrics; log: Logger }): Promise<QueryService> {
    const log = deps.log.child({ component: 'queries' });
    const peers = new HttpPeers({ token: options.token });
    const forwarding = ForwardingKey.generate();
    let directory: InstanceDirectory | undefined;
    const standbyHolders = (taskId: string) => directory?.instances().filter((i) => i.live && i.standbys?.[taskId] !== undefined) ?? [];
    const queries = new StoreQueries(
      {
        instanceId: view.instanceId,
        stores: view.stores,
        globalStores: view.globalStores,
        partitions: (store) => view.partitions(store),
        local: (taskId, store) => view.local(taskId, store),
        owner: (taskId) => directory?.owner(taskId),
        stale: {
          instanceId: view.instanceId,
          standby: (taskId, store) => view.standby(taskId, store),
          standbyHolders,
        },
        handedOver: {
          copy: (taskId, store) => {
            const positions = directory?.handedOver(taskId);
            return positions && view.copyAt(taskId, store, positions);
          },
          // The least behind first: a copy not at the hand-over's positions answers 503.
          holders: (taskId) => (directory?.handedOver(taskId) ? standbyHolders(taskId).sort((a, b) => a.standbys![taskId]! - b.standbys![taskId]!) : []),
        },
      },
      peers,
      options.limits,
    );
    const started: { service?: QueryService } = {};
    const topics = new TopicWriter(deps.connection);
    const deadLetters = new DeadLetters({ connection: deps.connection, applicationId: view.applicationId, topics: view.deadLetterTopics, sourceTopics: view.sourceTopics, writer: topics });
    const server = await QueryServer.start(options, {
      queries,
      routes: view.routes,
      topics,
      deadLetters,
      forwarding,
      metrics: deps.metrics,
      log,
      metadata: () => started.service?.metadata() ?? { application: view.applicationId, instances: [] },
      instanceMetrics: (instance) => (instance === view.instanceId ? deps.metrics.text() : (started.service?.peerMetrics(instance) ?? Promise.resolve(''))),
      topology: () => view.description,
      readiness: () => readiness(view, queries),
    });
    try {
      directory = await InstanceDirectory.start({
        connection: deps.connection,
        applicationId: view.applicationId,
        heartbeatMs: options.heartbeatMs,
        staleAfterMs: options.staleAfterMs,
        log,
        self: () => ({ instance: view.instanceId, endpoint: server.endpoint, state: view.state(), tasks: view.tasks(), standbys: view.standbys(), forwardKey: forwarding.published }),
      });
    } catch (err) {
      await server.close();
      await peers.close();
      throw err;
    }
    started.service = new QueryService(view, server, directory, peers, topics);
    log.info({ endpoint: server.endpoint }, 'serving interactive queries');
    return started.service;
  }

  get endpoint(): string {
    return this.server.endpoint;
  }

  /** The port the server listens on. */
  get port(): number {
    return this.server.port;
  }

  /** Tells the other instances about a change here (tasks, state). */
  announce(): void {
    this.directory.announce();
  }

  /** Every instance: its endpoint, state, tasks, standby replicas and the partitions of each store it hosts. */
  metadata(): unknown {
    const known = this.directory.instances();
    if (!known.some((i) => i.instance === this.view.instanceId)) {
      known.push({ instance: this.view.instanceId, endpoint: this.endpoint, state: this.view.state(), tasks: this.view.tasks(), standbys: this.view.standbys(), heartbeat: Date.now(), live: true });
    }
    const now = Date.now();
    return {
      application: this.view.applicationId,
      instance: this.view.instanceId,
      instances: known
        .sort((a, b) => a.instance.localeCompare(b.instance))
        .map((i) => ({
          instance: i.instance,
          endpoint: i.endpoint,
          state: i.state,
          live: i.live,
          lastHeardMsAgo: Math.max(0, now - i.heartbeat),
          tasks: i.tasks,
          standbys: i.standbys ?? {},
          stores: this.storesOf(i),
        })),
    };
  }

  /** Another instance's `/metrics`, asked over HTTP: 404 for an instance the directory does not know, 503 when it does not answer. */
  async peerMetrics(name: string): Promise<string> {
    const peer = this.directory.instances().find((i) => i.instance === name);
    if (peer === undefined) throw QueryError.notFound('instance-not-found', `No instance "${name}" is known to this one (GET /v1/metadata lists them).`, { instance: name });
    const unreachable = (why: string) => QueryError.unavailable('instance-unreachable', `Instance "${name}" did not give its metrics: ${why}.`, { instance: name, live: peer.live });
    let answer: PeerAnswer;
    try {
      answer = await this.peers.get(peer, '/metrics');
    } catch (err) {
      throw unreachable((err as Error).message);
    }
    if (answer.status !== 200) throw unreachable(`it answered ${answer.status}`);
    return answer.body;
  }

  /**
   * Tells the other instances that this one stops after a final commit that committed, with its
   * tasks' changelog positions then: their standby copies at those positions answer for the tasks
   * until someone runs them again. This instance claims no task from then on.
   */
  handOver(positions: Record<string, Record<string, number>>): Promise<void> {
    return this.directory.handOver(positions);
  }

  /** Withdraws this instance from the directory, stops answering and closes connections. */
  async close(): Promise<void> {
    await this.directory.close(this.view.instanceId);
    await this.server.close();
    await this.peers.close();
    await this.topics.close();
  }

  private storesOf(instance: KnownInstance): Record<string, { running: number[]; restoring: number[]; standby: Array<{ partition: number; lag: number }> }> {
    const stores: Record<string, { running: number[]; restoring: number[]; standby: Array<{ partition: number; lag: number }> }> = {};
    const taskOf = (task: string) => task.split('_').map(Number) as [number, number];
    for (const store of this.view.stores) {
      const entry = { running: [] as number[], restoring: [] as number[], standby: [] as Array<{ partition: number; lag: number }> };
      for (const [task, state] of Object.entries(instance.tasks)) {
        const [sub, partition] = taskOf(task);
        if (sub === store.subtopology) entry[state].push(partition);
      }
      for (const [task, lag] of Object.entries(instance.standbys ?? {})) {
        const [sub, partition] = taskOf(task);
        if (sub === store.subtopology && !store.sourceChangelog) entry.standby.push({ partition, lag });
      }
      entry.running.sort((a, b) => a - b);
      entry.restoring.sort((a, b) => a - b);
      entry.standby.sort((a, b) => a.partition - b.partition);
      stores[store.name] = entry;
    }
    return stores;
  }
}

/**
 * Ready when a query sent here would not answer 503 for want of a partition: this instance runs
 * (not starting, rebalancing or restoring) and every partition of every store has a running owner
 * it can read or ask. An instance's own lifecycle is RUNNING as soon as its own tasks run, while
 * the partitions that moved to other instances may still be restoring there or not yet claimed:
 * its queries for them answer 503, and so does its readiness.
 */
function readiness(view: InstanceView, queries: StoreQueries): { ready: boolean; detail: Record<string, unknown> } {
  const tasks = view.tasks();
  const restoring = Object.keys(tasks).filter((t) => tasks[t] === 'restoring');
  const state = view.state();
  const detail: Record<string, unknown> = { state, tasks: Object.keys(tasks).length, restoring };
  if (state !== 'running' || restoring.length > 0) return { ready: false, detail };
  const unavailable = queries.unavailablePartitions();
  if (unavailable === undefined) return { ready: false, detail: { ...detail, partitionsKnown: false } };
  return { ready: unavailable.length === 0, detail: unavailable.length === 0 ? detail : { ...detail, unavailable } };
}
