/**
 * Feeding a running system and timing its outputs, for open-loop measurement (and the feed that
 * keeps an application busy while its queries are measured): a feeder writes records at a fixed
 * rate whatever the system does (so a system that falls behind shows it as latency, not as a
 * slower producer), each record stamped with its send time as the record timestamp; a latency
 * reader consumes the system's output and takes, per output record, its arrival time minus the
 * timestamp it carries. Every system under test propagates the input record's timestamp to its
 * outputs (for a count, the timestamp of the latest record counted), as Kafka Streams does.
 */
import { KafkaConsumer } from '../engine/kafka/consumer.ts';
import { KafkaProducer } from '../engine/kafka/producer.ts';

/** Keeps writing records `from`, `from + 1`, … to a topic at a steady rate until stopped or `limit` records are sent. */
export class Feeder {
  private next: number;
  private stopped = false;
  private readonly flushing: Promise<void>;
  private readonly timer: NodeJS.Timeout;
  private reachedLimit!: () => void;
  /** Resolves once `limit` records have been handed to the producer. */
  readonly sentAll: Promise<void>;

  private constructor(
    private readonly producer: KafkaProducer,
    topic: string,
    from: number,
    perSec: number,
    key: (i: number) => Buffer,
    value: (i: number) => Buffer,
    limit: number,
  ) {
    this.next = from;
    this.sentAll = new Promise((resolve) => (this.reachedLimit = resolve));
    const started = performance.now();
    const end = from + limit;
    this.timer = setInterval(() => {
      const due = Math.min(end, from + Math.floor(((performance.now() - started) / 1000) * perSec));
      for (; this.next < due; this.next++) producer.send({ topic, key: key(this.next), value: value(this.next), timestamp: Date.now() });
      if (this.next >= end) {
        clearInterval(this.timer);
        this.reachedLimit();
      }
    }, 5);
    // Surfaces delivery failures about once a second.
    this.flushing = (async () => {
      while (!this.stopped) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await producer.flush();
      }
    })();
    this.flushing.catch(() => undefined); // rethrown by stop()
  }

  static async start(bootstrapServers: string, topic: string, from: number, perSec: number, key: (i: number) => Buffer, value: (i: number) => Buffer, limit = Infinity): Promise<Feeder> {
    // A short linger: the send time stamped on a record should be close to when it leaves.
    const producer = await KafkaProducer.connect({ bootstrapServers, properties: { 'linger.ms': 1 } });
    await producer.loadPartitionCounts([topic]);
    return new Feeder(producer, topic, from, perSec, key, value, limit);
  }

  /** Stops feeding, waits until every record sent is acknowledged, and returns how many records the topic then holds. */
  async stop(): Promise<number> {
    if (this.stopped) return this.next;
    this.stopped = true;
    clearInterval(this.timer);
    await this.flushing;
    await this.producer.disconnect();
    return this.next;
  }
}

/**
 * Reads a topic from its start as records arrive, keeping arrival time minus record timestamp of
 * each; `count` is how many it has read (read_committed: how many an exactly-once system
 * committed).
 */
export class LatencyReader {
  private latencies: number[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  private constructor(private readonly consumer: KafkaConsumer) {
    this.loop = (async () => {
      while (this.running) {
        const batch = await consumer.consume(5000, 20);
        const now = Date.now();
        for (const record of batch) this.latencies.push(now - record.timestamp);
      }
    })();
  }

  /**
   * `counting`: only `count` matters (a closed loop's end), not each record's latency: the reader
   * fetches at most every 100 ms, or once 64 KB are there, where for latencies it asks the broker
   * every 5 ms; on two cores those fetches took CPU from the system under test.
   */
  static async start(bootstrapServers: string, topic: string, partitions: number, isolationLevel: 'read_uncommitted' | 'read_committed' = 'read_uncommitted', counting = false): Promise<LatencyReader> {
    const consumer = await KafkaConsumer.connect({
      bootstrapServers,
      isolationLevel,
      // For latencies, fetch as soon as anything is there, so the reader adds as little as it can to them.
      properties: counting ? { 'fetch.wait.max.ms': 100, 'fetch.min.bytes': 65_536 } : { 'fetch.wait.max.ms': 5, 'fetch.min.bytes': 1 },
    });
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
    return new LatencyReader(consumer);
  }

  get count(): number {
    return this.latencies.length;
  }

  /** Stops reading and returns p50 and p99 of the latencies seen, in milliseconds. */
  async stop(): Promise<{ records: number; p50Ms: number; p99Ms: number; maxMs: number }> {
    this.running = false;
    await this.loop;
    await this.consumer.disconnect();
    const sorted = Float64Array.from(this.latencies).sort();
    return { records: sorted.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted.length ? sorted[sorted.length - 1]! : NaN };
  }
}

/** The nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
