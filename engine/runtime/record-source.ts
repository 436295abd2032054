import type { KafkaProducer } from '../kafka/producer.ts';
import type { ConsumedRecord, TopicPartition } from '../kafka/records.ts';
import type { RecordOutput } from './record-output.ts';

/**
 * Where the processing loop takes records from: the consumer of the application's group, or
 * the test driver's topics in memory.
 */
export interface RecordSource {
  /** Up to `max` records: waits at most `timeoutMs` for the first, then takes what is ready. */
  consume(max: number, timeoutMs: number): Promise<ConsumedRecord[]>;
  /** Moves these partitions back (or on) to their committed positions; what was fetched for them is dropped. */
  seekToCommitted(partitions: TopicPartition[]): Promise<void>;
  /** Whether records of this partition are on the broker but not consumed yet; undefined when not known. */
  hasUndelivered(topic: string, partition: number): boolean | undefined;
  /**
   * The offset after the last record delivered of this partition, and after the transaction
   * markers that followed it (which no record brings); undefined when not known.
   */
  consumedUpTo(topic: string, partition: number): number | undefined;
  /** Stops fetching these partitions (their records not consumed yet are fetched again on resume). */
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
}

/** Where the processing loop's tasks send records, with what the loop itself needs of it. */
export type LoopOutput = RecordOutput & Pick<KafkaProducer, 'flush' | 'inFlight'>;

/** How far the consumer has read a partition, transaction markers included (see {@link RecordSource.consumedUpTo}). */
export type ConsumedUpTo = (topic: string, partition: number) => number | undefined;
