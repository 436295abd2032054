/**
 * What every workload kind gets from the harness: the command line's flags, the cluster, a way
 * to start a benchmarked system, and the helpers that read and write its topics.
 */
import os from 'node:os';
import type { KafkaAdmin } from '../engine/kafka/admin.ts';
import { KafkaConsumer } from '../engine/kafka/consumer.ts';
import { KafkaProducer } from '../engine/kafka/producer.ts';
import { readRanges } from '../engine/kafka/reader.ts';
import type { ConsumedRecord } from '../engine/kafka/records.ts';
import { SystemProcess } from './system-process.ts';
import type { KeyOrder } from './workloads/stateful.ts';
import type { JoinParams } from './workloads/joins.ts';
import type { EnrichParams } from './workloads/async-enrich.ts';
import type { WindowParams } from './workloads/windowed.ts';

/** The flags of `npm run bench -- <workload> …`, as given. */
export interface BenchFlags {
  quick: boolean;
  out?: string;
  systems?: string;
  rounds?: string;
  records?: string;
  keys?: string;
  rate?: string;
  instances?: string;
  'peer-timeout': string;
}

/** The sizes of a workload's input. */
export interface Params {
  records: number;
  valueSize: number;
  partitions: number;
  keys: number;
  keyOrder?: KeyOrder;
  commitIntervalMs: number;
  /** The windowed workloads: the windows and how the records' event times are spread. */
  windows?: WindowParams;
  /** The join workloads: where the event times of their two inputs lie, and the join window. */
  join?: JoinParams;
  /** async-enrich: the service's delays and the calls in flight. */
  enrich?: EnrichParams;
}

/** What a workload declares that the harness sizes: its params and, optionally, its rounds. */
export interface Sized {
  params: (quick: boolean) => Params;
  rounds?: (quick: boolean) => number;
}

export class BenchContext {
  constructor(
    readonly flags: BenchFlags,
    readonly bootstrapServers: string,
    readonly say: (line: string) => void,
  ) {}

  /** The workload's params, with `--records` and `--keys` applied. */
  paramsOf(workload: Sized): Params {
    const params = workload.params(this.flags.quick);
    // Workloads with one record per key keep it that way when --records changes the count.
    const keyPerRecord = params.keys === params.records;
    if (this.flags.records) params.records = Number(this.flags.records);
    if (this.flags.keys) params.keys = Number(this.flags.keys);
    else if (keyPerRecord) params.keys = params.records;
    return params;
  }

  /** `--rounds`, else the workload's own, else 3 (1 with `--quick`). */
  roundsOf(workload: Sized): number {
    return Number(this.flags.rounds ?? (workload.rounds ? workload.rounds(this.flags.quick) : this.flags.quick ? 1 : 3));
  }

  /** `--systems a,b`, else the workload's own. */
  systemsOf(own: string[]): string[] {
    return this.flags.systems ? this.flags.systems.split(',') : own;
  }

  /** A benchmarked system on the harness's cluster. */
  launch(script: string, env: Record<string, string>): SystemProcess {
    return new SystemProcess(script, { KAFKA_BOOTSTRAP_SERVERS: this.bootstrapServers, ...env });
  }

  /**
   * Writes `records` records to `topic`, record i with `key(i)` and `value(i)`, and with
   * `timestamp(i)` as its timestamp if given (else the time of sending).
   */
  async load(topic: string, records: number, key: (i: number) => Buffer, value: (i: number) => Buffer, timestamp?: (i: number) => number): Promise<void> {
    const producer = await KafkaProducer.connect({ bootstrapServers: this.bootstrapServers });
    await producer.loadPartitionCounts([topic]);
    for (let i = 0; i < records; i++) {
      producer.send({ topic, key: key(i), value: value(i), ...(timestamp ? { timestamp: timestamp(i) } : {}) });
      if (i % 100_000 === 99_999) await producer.flush();
    }
    await producer.disconnect();
  }

  /** Reads every record of `topic`, partition by partition in offset order, without keeping them. */
  async readAll(topic: string, partitions: number, onRecord: (record: ConsumedRecord) => void): Promise<void> {
    const consumer = await KafkaConsumer.connect({ bootstrapServers: this.bootstrapServers, isolationLevel: 'read_committed' });
    try {
      const ranges = [];
      for (let partition = 0; partition < partitions; partition++) {
        const { low, high } = await consumer.watermarks(topic, partition);
        ranges.push({ topic, partition, from: low, to: high });
      }
      await readRanges(consumer, ranges, (batch) => batch.forEach(onRecord));
    } finally {
      await consumer.disconnect();
    }
  }
}

/** Records in a topic, over its partitions. */
export async function recordCount(admin: KafkaAdmin, topic: string): Promise<number> {
  return (await admin.topicOffsets(topic)).reduce((n, p) => n + p.high, 0);
}

/** Input records a group has committed, over the partitions of its input topics. */
export async function committedSum(admin: KafkaAdmin, group: string, topics: string | string[]): Promise<number> {
  const inputs = typeof topics === 'string' ? [topics] : topics;
  return (await admin.groupOffsets(group)).filter((o) => inputs.includes(o.topic) && o.offset > 0).reduce((n, o) => n + o.offset, 0);
}

/** The end offsets of an input topic, per partition. */
export interface TopicEnds {
  topic: string;
  ends: Array<{ partition: number; high: number }>;
}

/** Whether a group has committed every partition of each of its inputs to its end (one look at the group's offsets for all). */
export async function committedToEnd(admin: KafkaAdmin, group: string, inputs: TopicEnds[]): Promise<boolean> {
  const offsets = await admin.groupOffsets(group);
  return inputs.every(({ topic, ends }) => {
    const committed = new Map(offsets.filter((o) => o.topic === topic).map((o) => [o.partition, o.offset]));
    return ends.every(({ partition, high }) => high === 0 || (committed.get(partition) ?? -1) >= high);
  });
}

/** The machine a run measured on, for its params; with NODE_OPTIONS when the run had them (every Node system inherits them). */
export function machine() {
  const nodeOptions = process.env.NODE_OPTIONS;
  return { cpus: os.availableParallelism(), node: process.version, platform: process.platform, ...(nodeOptions ? { nodeOptions } : {}) };
}
