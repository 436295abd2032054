import type { ConnectionOptions } from '../kafka/config.ts';
import type { KafkaConsumer } from '../kafka/consumer.ts';
import type { KafkaProducer } from '../kafka/producer.ts';
import type { Logger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import type { NodeCounts } from '../observability/node-counts.ts';
import type { AsyncStats } from '../observability/async-stats.ts';
import type { CompiledTopology } from '../topology/compiled.ts';
import { describeJson } from '../topology/describe.ts';
import { type HttpOptions, QueryService } from '../iq/service.ts';
import type { StaleCopy } from '../iq/stale-reads.ts';
import type { CommittedReader } from '../../state/committed-reader.ts';
import type { GlobalTables } from './global/global-tables.ts';
import { consumerLag, instanceStateOf } from './instance-status.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { ProcessingLoop } from './processing-loop.ts';
import { deadLetterTopics, nodeHandlings, type RecordErrors } from './record-errors.ts';
import type { Tasks } from './task/tasks.ts';

/** The parts of a running instance its query server and metrics read. */
export interface QueriedInstance {
  applicationId: string;
  instanceId: string;
  topology: CompiledTopology;
  tasks: Tasks;
  loop: ProcessingLoop;
  producer: KafkaProducer;
  consumer: () => KafkaConsumer | undefined;
  errors: RecordErrors;
  globals: GlobalTables | undefined;
  lifecycle: Lifecycle;
  asyncStats: AsyncStats;
  nodes: NodeCounts;
  /** Records replayed by restorations, and still to replay. */
  restoration: () => { restored: number; remaining: number };
  /** The standby replicas here, each with its lag. */
  standbys: () => Record<string, number>;
  /** A standby's copy of a task's store, for `?stale=true` lookups. */
  standby: (taskId: string, store: string) => StaleCopy | undefined;
  /** A standby's copy of a task's store if it is at exactly these changelog positions (a hand-over's). */
  copyAt: (taskId: string, store: string, positions: Record<string, number>) => CommittedReader<unknown, unknown> | undefined;
  partitions: (topic: string) => number | undefined;
}

/** Starts an instance's metrics and its query server, and joins the directory of instances. */
export async function serveInstanceQueries(instance: QueriedInstance, http: HttpOptions, connection: ConnectionOptions, log: Logger): Promise<{ queries: QueryService; metrics: Metrics }> {
  const { tasks, loop, producer, errors, lifecycle, topology } = instance;
  const metrics = new Metrics({
    consumed: () => loop.consumedByTopic,
    produced: () => producer.sentCounts(),
    processed: () => loop.processed,
    commits: () => loop.commits,
    rewinds: () => loop.rewinds,
    lag: () => {
      const consumer = instance.consumer();
      return consumer ? consumerLag(consumer, tasks.assignedPartitions()) : [];
    },
    restore: instance.restoration,
    deadLettered: () => errors.deadLettered,
    skipped: () => errors.skipped,
    late: () => errors.late,
    dropped: () => errors.dropped,
    nodeRecords: () => instance.nodes.totals(),
    nodeErrors: () => errors.failed,
    storeSizes: () => tasks.storeSizes(),
    tasks: () => ({ running: tasks.size, restoring: tasks.restoringIds().length }),
    standbys: instance.standbys,
    state: () => lifecycle.state,
  });
  loop.onCommitted = (seconds) => metrics.commitLatency.observe(seconds);
  instance.asyncStats.register(metrics.registry);
  const queries = await QueryService.start(
    {
      applicationId: instance.applicationId,
      instanceId: instance.instanceId,
      stores: topology.stores,
      globalStores: instance.globals?.queryable() ?? [],
      routes: topology.routes,
      deadLetterTopics: deadLetterTopics(nodeHandlings(topology.subtopologies.flatMap((s) => s.nodes))),
      sourceTopics: [...new Set(topology.subtopologies.flatMap((s) => s.sourceTopics))],
      description: describeJson(topology),
      partitions: (store) => instance.partitions(store.changelogTopic),
      local: (taskId, store) => tasks.query(taskId, store),
      tasks: () => {
        const states: Record<string, 'running' | 'restoring'> = {};
        for (const id of tasks.ids()) states[id] = 'running';
        for (const id of tasks.restoringIds()) states[id] = 'restoring';
        return states;
      },
      state: () => instanceStateOf(lifecycle.state, tasks.restoringIds().length > 0),
      standbys: instance.standbys,
      standby: instance.standby,
      copyAt: instance.copyAt,
    },
    http,
    { connection, metrics, log },
  );
  tasks.onChange = () => queries.announce();
  return { queries, metrics };
}
