import { CommittedReader } from '../../../state/committed-reader.ts';
import type { KeyRange, KeyValueStore } from '../../../state/key-value-store.ts';
import { LevelDbStore } from '../../../state/leveldb/level-store.ts';
import { StoreError } from '../../../state/sluice-error.ts';
import type { ConsumedRecord } from '../../kafka/records.ts';
import type { CompiledGlobalStore } from '../../topology/compiled.ts';
import type { RecordErrors } from '../record-errors.ts';

/**
 * One global table's store on this instance: a LevelDB with every partition of its topic, and how
 * far each partition is applied. Records are applied in batches, each checked first (it must
 * deserialize) and written as one LevelDB batch; reads are synchronous (a join's per-record path)
 * and see a batch once it is written.
 */
export class GlobalStore {
  readonly spec: CompiledGlobalStore;
  /** Partition → the offset after the last record applied (what the checkpoint records). */
  readonly positions = new Map<number, number>();
  /** What processors see: reads only; the topic is the store's only writer. */
  readonly view: KeyValueStore<unknown, unknown>;
  private bytes: LevelDbStore;
  private committed: CommittedReader<unknown, unknown> | undefined;

  constructor(spec: CompiledGlobalStore, bytes: LevelDbStore) {
    this.spec = spec;
    this.bytes = bytes;
    const refuse = (): never => {
      throw new StoreError(`Store "${spec.name}" is a global table's and is read-only: only its topic "${spec.changelogTopic}" changes it. Write to the topic instead.`);
    };
    this.view = { name: spec.name, get: (key) => this.get(key), put: refuse, insert: refuse, delete: refuse, range: (range) => this.readAll(range) };
  }

  /** True when the store had no files before it was opened (new, or its files were lost). */
  get created(): boolean {
    return this.bytes.created;
  }

  /** The value of `key`, as last written; undefined when the store holds none. */
  get(key: unknown): unknown {
    const { keySerde, valueSerde, changelogTopic } = this.spec;
    const keyBytes = keySerde.serialize(key, changelogTopic);
    if (keyBytes === null) return undefined;
    const stored = this.bytes.get(keyBytes);
    return stored === undefined ? undefined : valueSerde.deserialize(stored, changelogTopic);
  }

  /** A reader of what the store holds, for queries (the same data the joins read). */
  reader(): CommittedReader<unknown, unknown> {
    this.committed ??= new CommittedReader(this.bytes, this.spec.keySerde, this.spec.valueSerde, this.spec.changelogTopic);
    return this.committed;
  }

  /**
   * Applies records of the topic, in order: a null value deletes its key, a null key is skipped
   * (counted, as Kafka Streams drops it), and a record whose key or value cannot be deserialized
   * goes to the table's error handling (`fail` throws). One LevelDB batch; the positions move once
   * it is written.
   */
  async apply(records: readonly ConsumedRecord[], errors: RecordErrors): Promise<void> {
    const { keySerde, valueSerde, changelogTopic, name, onError } = this.spec;
    const prefetching = keySerde.prefetch !== undefined || valueSerde.prefetch !== undefined;
    const entries: Array<[Buffer, Buffer | null]> = [];
    const reached = new Map<number, number>();
    for (const record of records) {
      reached.set(record.partition, record.offset + 1);
      if (record.key === null) {
        errors.drop(record, name, 'a global table skips a record with a null key');
        continue;
      }
      try {
        // An Avro serde fetches the writer's schema before it can read.
        if (prefetching) await Promise.all([keySerde.prefetch?.(record.key, changelogTopic), valueSerde.prefetch?.(record.value, changelogTopic)]);
        keySerde.deserialize(record.key, changelogTopic);
        if (record.value !== null) valueSerde.deserialize(record.value, changelogTopic);
      } catch (error) {
        errors.handle(onError, { raw: record, stage: 'deserialization', operator: name, error });
        continue;
      }
      entries.push([record.key, record.value]);
    }
    await this.bytes.restore(entries);
    for (const [partition, offset] of reached) this.positions.set(partition, offset);
  }

  /** Deletes everything the store holds: it is then rebuilt from the start of its topic. */
  async wipe(): Promise<void> {
    const { location } = this.bytes;
    await this.bytes.close();
    LevelDbStore.wipe(location);
    this.bytes = await LevelDbStore.open(this.spec.name, location);
    this.positions.clear();
    this.committed = undefined;
  }

  close(): Promise<void> {
    return this.bytes.close();
  }

  private async *readAll(range: KeyRange<unknown> = {}): AsyncIterable<[unknown, unknown]> {
    const { keySerde, valueSerde, changelogTopic: topic } = this.spec;
    const encode = (key: unknown) => (key === undefined ? undefined : (keySerde.serialize(key, topic) ?? undefined));
    const options = { from: encode(range.from), to: encode(range.to), prefix: encode(range.prefix), limit: range.limit, reverse: range.reverse };
    for await (const [key, value] of this.bytes.range(options)) yield [keySerde.deserialize(key, topic), valueSerde.deserialize(value, topic)];
  }
}
