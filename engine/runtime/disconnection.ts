import { describeCause } from '../errors.ts';
import type { KafkaConsumer } from '../kafka/consumer.ts';
import type { KafkaProducer } from '../kafka/producer.ts';
import type { Logger } from '../observability/logger.ts';
import type { ProcessingLoop } from './processing-loop.ts';

/** What an application holds connected, closed by {@link disconnectAll} in this order. */
export interface Connected {
  queries?: { close(): Promise<void> };
  loop?: ProcessingLoop;
  consumer?: KafkaConsumer;
  producer?: KafkaProducer;
  purge?: { close(): Promise<void> };
  cleanup?: { stop(): void };
  standbys?: { close(): Promise<void> };
  globals?: { close(): Promise<void> };
}

/** The step a shutdown is at, so that one that does not end in time can say where it stopped. */
export class ShutdownProgress {
  step = 'finishing the batch in flight and committing';
}

/**
 * Closes what the application holds, each step named in `progress` as it starts; a step that
 * fails is logged and the next one runs.
 */
export async function disconnectAll(parts: Connected, progress: ShutdownProgress, log: Logger): Promise<void> {
  const step = async (name: string, run: () => unknown, failed: string): Promise<void> => {
    progress.step = name;
    try {
      await run();
    } catch (err) {
      log.warn({ err: describeCause(err) }, failed);
    }
  };
  const { loop, producer } = parts;
  await step('closing the query server', () => parts.queries?.close(), 'query server did not close cleanly');
  // A transaction left open by a failure is aborted now rather than when it times out, between
  // two steps of the loop (a revocation's commit may hold it).
  const abort = async () => {
    if (producer?.inTransaction) await producer.abortTransaction();
  };
  await step('aborting the open transaction', () => (loop ? loop.exclusive(abort) : abort()), 'could not abort the open transaction');
  // No rebalance listener runs once the consumer has closed, so nothing commits through the producer after.
  await step('leaving the group', () => parts.consumer?.disconnect(), 'consumer disconnect failed');
  await step('flushing and closing the producer', () => producer?.disconnect(), 'producer disconnect failed');
  await step('stopping the repartition purge', () => parts.purge?.close(), 'repartition purge did not stop cleanly');
  parts.cleanup?.stop();
  await step('closing the standby replicas', () => parts.standbys?.close(), 'standby replicas did not close cleanly');
  await step('closing the global tables', () => parts.globals?.close(), 'global tables did not close cleanly');
}
