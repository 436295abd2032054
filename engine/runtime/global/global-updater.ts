import { describeCause } from '../../errors.ts';
import type { ConnectionOptions } from '../../kafka/config.ts';
import { KafkaConsumer } from '../../kafka/consumer.ts';
import type { Logger } from '../../observability/logger.ts';
import type { RecordErrors } from '../record-errors.ts';
import type { GlobalState } from './global-state.ts';

/** Records taken from the consumer at a time. */
const MAX_BATCH = 5_000;
/** How long a poll waits for a record: also how long stopping may wait for one. */
const POLL_MS = 100;

export interface GlobalUpdaterOptions {
  connection: ConnectionOptions;
  errors: RecordErrors;
  log: Logger;
  /** How often the checkpoint is written while records come in (the application's commit interval). */
  checkpointIntervalMs: number;
  /** Told when the stores cannot be kept up to date (the application stops on it). */
  onFatal: (err: unknown) => void;
}

/**
 * Keeps the global stores up to date while the application runs, as Kafka Streams' global stream
 * thread does: a consumer of its own, in no consumer group, reads every partition of the global
 * topics from where restoration left them (committed records only) and applies what comes, a batch
 * at a time, beside the processing loop. The checkpoint is written at most once per interval, and
 * when it stops.
 */
export class GlobalUpdater {
  private readonly state: GlobalState;
  private readonly consumer: KafkaConsumer;
  private readonly options: GlobalUpdaterOptions;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  private constructor(state: GlobalState, consumer: KafkaConsumer, options: GlobalUpdaterOptions) {
    this.state = state;
    this.consumer = consumer;
    this.options = options;
  }

  /** Starts reading every partition of the global topics from the stores' positions. */
  static async start(state: GlobalState, options: GlobalUpdaterOptions): Promise<GlobalUpdater> {
    const consumer = await KafkaConsumer.connect({ ...options.connection, isolationLevel: 'read_committed', logger: options.log.child({ component: 'global-consumer' }) });
    consumer.assign(state.stores.flatMap((s) => [...s.positions].map(([partition, offset]) => ({ topic: s.spec.changelogTopic, partition, offset }))));
    const updater = new GlobalUpdater(state, consumer, options);
    updater.running = updater.run();
    return updater;
  }

  private async run(): Promise<void> {
    const { errors, checkpointIntervalMs, log } = this.options;
    let checkpointed = Date.now();
    let changed = false;
    try {
      while (!this.stopped) {
        const records = await this.consumer.consume(MAX_BATCH, POLL_MS);
        if (records.length > 0) {
          await this.state.apply(records, errors);
          changed = true;
        }
        if (changed && Date.now() - checkpointed >= checkpointIntervalMs) {
          checkpointed = Date.now();
          changed = false;
          try {
            this.state.checkpoint();
          } catch (err) {
            log.warn({ err: describeCause(err) }, 'global tables checkpoint not written; the next start reads more of their topics');
          }
        }
      }
    } catch (err) {
      if (!this.stopped) this.options.onFatal(err);
    }
  }

  /** Stops after the batch in hand and disconnects (the stores and their checkpoint are the state's). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    await this.consumer.disconnect();
  }
}
