import type { InstanceState } from '../iq/directory.ts';
import type { KafkaConsumer } from '../kafka/consumer.ts';
import type { TopicPartition } from '../kafka/records.ts';
import type { ApplicationState } from './lifecycle.ts';

/** What the directory of instances says of this one: restoring while any task restores, else its lifecycle's state. */
export function instanceStateOf(state: ApplicationState, restoring: boolean): InstanceState {
  if (restoring) return 'restoring';
  switch (state) {
    case 'RUNNING':
      return 'running';
    case 'REBALANCING':
      return 'rebalancing';
    case 'CREATED':
    case 'STARTING':
      return 'starting';
    default:
      return 'stopping';
  }
}

/** Lag of each partition read: the end the client last saw minus the position (no request is made). */
export function consumerLag(consumer: KafkaConsumer, partitions: TopicPartition[]): Array<{ topic: string; partition: number; lag: number }> {
  let positions: Array<{ topic: string; partition: number; offset: number }>;
  try {
    positions = consumer.position(partitions);
  } catch {
    return [];
  }
  const lags: Array<{ topic: string; partition: number; lag: number }> = [];
  for (const { topic, partition, offset } of positions) {
    const marks = consumer.cachedWatermarks(topic, partition);
    if (marks && offset >= 0) lags.push({ topic, partition, lag: Math.max(0, marks.high - offset) });
  }
  return lags;
}
