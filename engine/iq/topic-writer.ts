import type { ConnectionOptions } from '../kafka/config.ts';
import { partitionForKey } from '../kafka/murmur2.ts';
import { KafkaProducer } from '../kafka/producer.ts';
import type { ProducerRecord } from '../kafka/records.ts';
import type { TopicTarget, WrittenRecord } from './routes.ts';

/**
 * Writes the records query routes send to the topology's input topics (see `RouteContext.write`),
 * through a producer of its own (idempotent, not transactional), made at the first write.
 */
export class TopicWriter {
  private readonly connection: ConnectionOptions;
  private producer: Promise<KafkaProducer> | undefined;
  /** The topics whose partition counts and acknowledged offsets the producer tracks. */
  private readonly known = new Map<string, Promise<void>>();

  constructor(connection: ConnectionOptions) {
    this.connection = connection;
  }

  /** Writes one record, placed by its key with murmur2, and resolves once the broker has it. */
  async write(target: TopicTarget, key: unknown, value: unknown): Promise<WrittenRecord> {
    const producer = await (this.producer ??= this.connect());
    await this.learn(producer, target.topic);
    const keyBytes = target.keySerde.serialize(key, target.topic);
    if (keyBytes === null) throw new TypeError(`a record written to ${target.topic} by a query route needs a key`);
    const partition = partitionForKey(keyBytes, producer.partitionCount(target.topic)!);
    return this.deliver(producer, { topic: target.topic, partition, key: keyBytes, value: target.valueSerde.serialize(value, target.topic) });
  }

  /** Writes one record of bytes to the partition it names, and resolves once the broker has it. */
  async send(record: ProducerRecord & { partition: number }): Promise<WrittenRecord> {
    const producer = await (this.producer ??= this.connect());
    await this.learn(producer, record.topic);
    return this.deliver(producer, record);
  }

  private async deliver(producer: KafkaProducer, record: ProducerRecord & { partition: number }): Promise<WrittenRecord> {
    producer.send(record);
    await producer.flush(30_000);
    // The partition's last acknowledged offset: this record's, unless another record for the
    // same partition was written just after it.
    return { topic: record.topic, partition: record.partition, offset: producer.deliveredOffset(record.topic, record.partition) ?? -1 };
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    this.known.clear();
    if (producer) await (await producer.catch(() => undefined))?.disconnect();
  }

  private async connect(): Promise<KafkaProducer> {
    try {
      // A report per record: a write answers with its record's own offset.
      return await KafkaProducer.connect({ ...this.connection, deliveryReports: 'all' });
    } catch (err) {
      this.producer = undefined;
      throw err;
    }
  }

  /** Learns a topic's partition count once, and tracks its acknowledged offsets. */
  private learn(producer: KafkaProducer, topic: string): Promise<void> {
    let known = this.known.get(topic);
    if (known === undefined) {
      known = producer.loadPartitionCounts([topic]).then(() => producer.trackDeliveredOffsets([topic]));
      known.catch(() => this.known.delete(topic));
      this.known.set(topic, known);
    }
    return known;
  }
}
