import type { KafkaProducer } from '../kafka/producer.ts';

/**
 * Where tasks send what they produce (outputs, changelog and dead-letter records): the
 * application's producer, or the test driver's in-process topics. `deliveredOffset` is the
 * offset of the last acknowledged record of a topic-partition, for checkpoints; `recordLimit` the
 * most bytes a record of a topic may take.
 */
export type RecordOutput = Pick<KafkaProducer, 'send' | 'deliveredOffset' | 'recordLimit'>;
