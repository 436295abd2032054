import { describeCause } from '../errors.ts';
import type { KafkaAdmin } from '../kafka/admin.ts';
import type { TopicPartitionOffset } from '../kafka/records.ts';
import type { Logger } from '../observability/logger.ts';

/**
 * Keeps repartition topics short. They are created without time retention, since the records
 * they carry keep their source's timestamps, and a topic deleting by time would drop old events
 * (a rebuild from the start of the log) before the next sub-topology read them. Instead, once a
 * record's position is committed nobody reads it again, so every `intervalMs` the records before
 * the committed positions are deleted, as Kafka Streams does. A purge runs beside the loop, one
 * at a time; a failed one is logged and the next does the work.
 */
export class RepartitionPurge {
  private readonly due = new Map<string, TopicPartitionOffset>();
  private lastPurge = Date.now();
  private running: Promise<void> | undefined;

  constructor(
    private readonly admin: KafkaAdmin,
    private readonly topics: ReadonlySet<string>,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** Told of every commit's positions. */
  committed(offsets: TopicPartitionOffset[]): void {
    for (const o of offsets) if (this.topics.has(o.topic)) this.due.set(`${o.topic}[${o.partition}]`, o);
    if (this.due.size === 0 || this.running || Date.now() - this.lastPurge < this.intervalMs) return;
    this.lastPurge = Date.now();
    const before = [...this.due.values()];
    this.due.clear();
    this.running = this.admin
      .deleteRecords(before)
      .catch((err) => this.log.warn({ err: describeCause(err) }, 'could not purge repartition topics; the next purge will'))
      .finally(() => (this.running = undefined));
  }

  /** Waits for a purge under way, then disconnects the admin client. */
  async close(): Promise<void> {
    await this.running;
    this.admin.disconnect();
  }
}
