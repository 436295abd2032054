/** What differs between one local broker and another. */
export interface BrokerLayout {
  host: string;
  port: number;
  controllerPort: number;
  dataDir: string;
}

/**
 * `server.properties` for a single-node KRaft broker (broker and controller in one process).
 * Replication factor 1 and min ISR 1 for the internal logs make consumer groups and
 * transactions work on one node; no initial rebalance delay keeps tests fast.
 */
export function brokerProperties(layout: BrokerLayout): string {
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${layout.host}:${layout.controllerPort}`,
    listeners: `PLAINTEXT://${layout.host}:${layout.port},CONTROLLER://${layout.host}:${layout.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${layout.host}:${layout.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': layout.dataDir,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 10,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    // Members may ask for session timeouts down to a second (the default floor is six), so tests
    // and the failover benchmark notice a killed instance quickly.
    'group.min.session.timeout.ms': 1000,
    // A transaction left open by a killed producer is aborted within a second of its timeout
    // (default: ten), so read_committed readers behind it wait less.
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': 1000,
    'auto.create.topics.enable': true,
    // The cleaner's dedupe buffer is taken from the heap up front; keep it small for a small heap.
    'log.cleaner.dedupe.buffer.size': 32 * 1024 * 1024,
    'num.recovery.threads.per.data.dir': 1,
  };
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')
    .concat('\n');
}
