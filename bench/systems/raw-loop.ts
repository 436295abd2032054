/**
 * The raw-client baselines' plumbing on @confluentinc/kafka-javascript (systems/raw-client.ts,
 * systems/raw-client-async.ts): an idempotent producer to the output whose sends are counted
 * until their delivery reports come back, and a consumer in the run's group (cooperative-sticky,
 * offsets committed by hand) that announces ready once it owns partitions. A commit waits for
 * every delivery report, then commits synchronously: the same at-least-once guarantee as Sluice.
 */
import Kafka from '@confluentinc/kafka-javascript';
import { announceReady, type SystemSettings } from './protocol.ts';

export type RawMessage = Kafka.Message;
/** Per partition, the offset to commit: one past the last record processed. */
export type Positions = Map<number, Kafka.TopicPartitionOffset>;

export interface RawLoop {
  /** Sends a record to the output; not awaited (`commit` waits for its delivery). */
  send(value: Buffer, key: Kafka.MessageKey | undefined, timestamp?: number, headers?: Kafka.MessageHeader[]): void;
  /** Up to `max` records, waiting at most 100 ms for the first. */
  consume(max: number): Promise<RawMessage[]>;
  /** Waits for every delivery report, then commits `positions` and clears them. */
  commit(positions: Positions): Promise<void>;
  disconnect(): Promise<void>;
}

/** Connects both clients and subscribes to the input; `onRevoked` hears of partitions taken away. */
export async function connectRawLoop(settings: SystemSettings, onRevoked: (partitions: number[]) => void = () => {}): Promise<RawLoop> {
  let pending = 0;
  let idle: (() => void) | undefined;
  const producer = new Kafka.Producer({
    'bootstrap.servers': settings.bootstrapServers,
    'enable.idempotence': true,
    partitioner: 'murmur2_random',
    'linger.ms': 5,
    'queue.buffering.max.messages': 500_000,
    dr_cb: true,
  });
  producer.on('delivery-report', (err) => {
    if (err) throw err;
    if (--pending === 0) idle?.();
  });
  await new Promise((resolve, reject) => producer.connect({}, (err) => (err ? reject(err) : resolve(null))));
  producer.setPollInBackground(true);

  let announced = false;
  const consumer = new Kafka.KafkaConsumer(
    {
      'bootstrap.servers': settings.bootstrapServers,
      'group.id': settings.group,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'partition.assignment.strategy': 'cooperative-sticky',
      'fetch.wait.max.ms': 100,
      rebalance_cb: function (this: Kafka.KafkaConsumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]) {
        const self = this as unknown as { incrementalAssign(a: Kafka.Assignment[]): void; incrementalUnassign(a: Kafka.Assignment[]): void };
        if (err.code === -175) {
          self.incrementalAssign(assignment);
          if (!announced && assignment.length > 0) {
            announced = true;
            announceReady();
          }
        } else {
          onRevoked(assignment.map((a) => a.partition));
          self.incrementalUnassign(assignment);
        }
      },
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve(null))));
  (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(b: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
  consumer.setDefaultConsumeTimeout(100);
  consumer.subscribe([settings.input]);

  return {
    send(value, key, timestamp, headers) {
      producer.produce(settings.output, -1, value, key, timestamp, undefined, headers);
      pending++;
    },
    consume: (max) => new Promise((resolve, reject) => consumer.consume(max, (err, messages) => (err ? reject(err) : resolve(messages)))),
    async commit(positions) {
      producer.flush(0);
      if (pending > 0) await new Promise<void>((resolve) => (idle = resolve));
      idle = undefined;
      if (positions.size > 0) consumer.commitSync([...positions.values()]);
      positions.clear();
    },
    async disconnect() {
      await new Promise((resolve) => consumer.disconnect(resolve));
      await new Promise((resolve) => producer.disconnect(resolve));
    },
  };
}
