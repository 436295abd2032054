/**
 * The chaos run's workload: its topics, the input (values 1, 2, … at a steady pace, keys drawn
 * from the seed, so a run can be replayed), and the wait until the group has processed all of it.
 */
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { seededRandom } from '../../topologies/lib/seeded-random.ts';
import { sleep, type ChaosTopics, type RunOptions } from './options.ts';
import { TailReader } from './tail-reader.ts';
import type { ViolationLog } from './violations.ts';

export class Workload {
  /** Input records produced so far. */
  produced = 0;

  constructor(
    private readonly options: RunOptions,
    private readonly applicationId: string,
    readonly topics: ChaosTopics,
    private readonly say: (line: string) => void,
  ) {}

  /** Creates the input and output topics (the application creates its internal ones). */
  async createTopics(): Promise<void> {
    const admin = KafkaAdmin.connect({ bootstrapServers: this.options.bootstrapServers });
    try {
      const { input, echo, sum, max, count, async } = this.topics;
      await admin.createTopics([input, echo, sum, max, count, async].map((name) => ({ name, partitions: this.options.partitions })));
    } finally {
      admin.disconnect();
    }
  }

  /** Deletes every topic of the run and its consumer group. */
  async deleteTopics(): Promise<void> {
    const admin = KafkaAdmin.connect({ bootstrapServers: this.options.bootstrapServers });
    try {
      const t = this.topics;
      await admin.deleteTopics([t.input, t.echo, t.sum, t.max, t.count, t.async, ...t.repartitions, ...t.changelogs]);
      await admin.deleteGroups([this.applicationId]).catch(() => undefined);
    } finally {
      admin.disconnect();
    }
  }

  /** Produces the input at a steady pace: values 1..records, keys drawn from the seed. */
  async produce(): Promise<void> {
    const { records, keys, ratePerSec, seed } = this.options;
    const rand = seededRandom(seed);
    const producer = await KafkaProducer.connect({ bootstrapServers: this.options.bootstrapServers });
    try {
      await producer.loadPartitionCounts([this.topics.input]);
      const start = Date.now();
      while (this.produced < records) {
        const due = Math.min(records, Math.max(this.produced + 1, Math.floor(((Date.now() - start) * ratePerSec) / 1000)));
        while (this.produced < due) {
          const value = ++this.produced;
          const key = String(Math.floor(rand() * keys));
          producer.send({ topic: this.topics.input, key: Buffer.from(key), value: Buffer.from(String(value)) });
        }
        await producer.flush();
        await sleep(20);
      }
    } finally {
      await producer.disconnect();
    }
  }

  /**
   * Waits until the group has committed every input record, and then every record of the
   * repartition topics (every sub-topology is done). A transactional topic ends in commit
   * markers, which no consumer commits past, so a partition counts as done when the committed
   * offset passes its last committed record and no transaction is open in it. Past the catch-up
   * timeout, what lags is a `catchUp.timeout` violation.
   */
  async waitForCatchUp(violations: ViolationLog): Promise<void> {
    const deadline = Date.now() + this.options.catchUpTimeoutMs;
    const admin = KafkaAdmin.connect({ bootstrapServers: this.options.bootstrapServers });
    const tails = await TailReader.connect(this.options.bootstrapServers);
    try {
      let lagging: string[] = [];
      let lastReport = 0;
      for (;;) {
        const committed = new Map((await admin.groupOffsets(this.applicationId)).map((o) => [`${o.topic}[${o.partition}]`, o.offset]));
        lagging = [];
        for (const { partition, high } of await admin.topicOffsets(this.topics.input)) {
          const at = committed.get(`${this.topics.input}[${partition}]`) ?? 0;
          if (at < high) lagging.push(`${this.topics.input}[${partition}] at ${at} of ${high}`);
        }
        if (lagging.length === 0) {
          for (const repartition of this.topics.repartitions) {
            for (const tail of await tails.ends(repartition)) {
              const at = committed.get(`${repartition}[${tail.partition}]`) ?? 0;
              if (tail.stable < tail.high) lagging.push(`${repartition}[${tail.partition}] has a transaction open (stable ${tail.stable}, high ${tail.high})`);
              else if (at < tail.end) lagging.push(`${repartition}[${tail.partition}] at ${at} of ${tail.end}`);
            }
          }
        }
        if (lagging.length === 0) {
          this.say('the group has committed every input and repartitioned record');
          return;
        }
        if (Date.now() > deadline) break;
        if (Date.now() - lastReport > 10_000) {
          this.say(`waiting for the group: ${lagging.slice(0, 3).join('; ')}${lagging.length > 3 ? ` (+${lagging.length - 3})` : ''}`);
          lastReport = Date.now();
        }
        await sleep(1_000);
      }
      for (const l of lagging) violations.add('catchUp.timeout', () => `after ${this.options.catchUpTimeoutMs} ms: ${l}`);
      this.say(`gave up waiting for the group: ${lagging.join('; ')}`);
    } finally {
      admin.disconnect();
      await tails.close();
    }
  }
}
