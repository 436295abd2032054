import { describeCause } from '../errors.ts';
import type { KafkaAdmin } from '../kafka/admin.ts';
import type { ConnectionOptions } from '../kafka/config.ts';
import { KafkaConsumer } from '../kafka/consumer.ts';
import { KafkaProducer } from '../kafka/producer.ts';
import type { ConsumedRecord } from '../kafka/records.ts';
import type { Logger } from '../observability/logger.ts';

/** What an instance says of itself, as its state changes and once per heartbeat. */
export interface Announcement {
  instance: string;
  /** Where its query server answers, e.g. `http://10.0.0.7:8080`. */
  endpoint: string;
  state: InstanceState;
  /** Its tasks (`<subtopology>_<partition>`) and where each stands. */
  tasks: Record<string, 'running' | 'restoring'>;
  /** Its standby replicas (`<subtopology>_<partition>`), each with its lag in changelog records. */
  standbys?: Record<string, number>;
  /** When it said this (milliseconds since the epoch, its clock). */
  heartbeat: number;
  /** The key other instances sign the requests they forward to it with (engine/iq/forwarding.ts). */
  forwardKey?: string;
  /**
   * Its last word on a clean stop: the tasks it ran until a final commit that committed, each
   * with its stores' changelog positions then. See {@link InstanceDirectory.handedOver}.
   */
  handover?: Record<string, ChangelogPositions>;
}

/** Where a task's changelogs stand: `topic[partition]` → offset. */
export type ChangelogPositions = Record<string, number>;

export type InstanceState = 'starting' | 'running' | 'rebalancing' | 'restoring' | 'stopping';

/** An instance as the directory knows it. */
export interface KnownInstance extends Announcement {
  /** False once it has missed its heartbeats: its claims no longer count. */
  live: boolean;
}

export interface DirectoryOptions {
  connection: ConnectionOptions;
  applicationId: string;
  /** This instance's announcement, without the heartbeat: asked each time one is sent. */
  self: () => Omit<Announcement, 'heartbeat'>;
  /** How often an instance announces itself even when nothing changed. Default 1 s. */
  heartbeatMs?: number;
  /** After how long without an announcement an instance counts as gone. Default 5 heartbeats. */
  staleAfterMs?: number;
  log: Logger;
}

/** The compacted topic where the instances of an application announce themselves. */
export function instancesTopic(applicationId: string): string {
  return `${applicationId}-instances`;
}

/** Creates the instances topic if it does not exist: one partition (one total order), compacted. */
export async function prepareInstancesTopic(admin: KafkaAdmin, applicationId: string): Promise<void> {
  const name = instancesTopic(applicationId);
  if ((await admin.describeTopics([name])).length > 0) return;
  await admin.createTopics([{ name, partitions: 1, config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' } }]);
}

interface Entry {
  announcement: Announcement;
  /** task id -> offset of the announcement that first claimed it (in an unbroken run of claims). */
  claims: Map<string, number>;
}

/**
 * Who runs which task, learnt through Kafka alone: every instance writes its announcements (its
 * endpoint, state and tasks) to a compacted one-partition topic, keyed by instance id, and reads
 * everyone's. A task claimed by two live instances (the old owner's last word and the new
 * owner's) belongs to the later claim: the topic's single partition orders every claim. An
 * instance that stops says so with a tombstone; one that dies stops heartbeating and is ignored
 * once its announcement is stale.
 */
export class InstanceDirectory {
  private readonly options: Required<Omit<DirectoryOptions, 'log'>> & { log: Logger };
  private readonly topic: string;
  private readonly entries = new Map<string, Entry>();
  private readonly producer: KafkaProducer;
  private readonly consumer: KafkaConsumer;
  private heartbeat: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly listeners: Array<() => void> = [];
  /** Tasks handed over on a clean stop and claimed as running by no one since, with their positions then. */
  private readonly handovers = new Map<string, ChangelogPositions>();
  /** Set once this instance handed its tasks over: it announces nothing more but its tombstone. */
  private silent = false;

  private constructor(options: DirectoryOptions, producer: KafkaProducer, consumer: KafkaConsumer) {
    const heartbeatMs = options.heartbeatMs ?? 1_000;
    this.options = { heartbeatMs, staleAfterMs: options.staleAfterMs ?? 5 * heartbeatMs, ...withoutUndefined(options) } as typeof this.options;
    this.topic = instancesTopic(options.applicationId);
    this.producer = producer;
    this.consumer = consumer;
  }

  /** Connects, starts reading every announcement from the beginning, and announces this instance. */
  static async start(options: DirectoryOptions): Promise<InstanceDirectory> {
    const producer = await KafkaProducer.connect({ ...options.connection, logger: options.log.child({ component: 'directory-producer' }) });
    let consumer: KafkaConsumer;
    try {
      consumer = await KafkaConsumer.connect({
        ...options.connection,
        properties: { ...options.connection.properties, 'fetch.wait.max.ms': 50 },
        isolationLevel: 'read_uncommitted',
        logger: options.log.child({ component: 'directory-consumer' }),
      });
    } catch (err) {
      await producer.disconnect();
      throw err;
    }
    const directory = new InstanceDirectory(options, producer, consumer);
    consumer.assign([{ topic: directory.topic, partition: 0, offset: -2 }]);
    directory.reading = directory.read();
    directory.send();
    directory.heartbeat = setInterval(() => directory.send(), directory.options.heartbeatMs);
    directory.heartbeat.unref();
    return directory;
  }

  /** Announces this instance soon (changes within a few milliseconds go out as one). */
  announce(): void {
    if (this.stopped || this.silent || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.send();
    }, 5);
    this.pending.unref();
  }

  /** Called after each announcement read (tests and the server's caches use it). */
  onUpdate(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Every instance announced and not stopped, live or not. */
  instances(): KnownInstance[] {
    const now = Date.now();
    return [...this.entries.values()].map(({ announcement }) => ({ ...announcement, live: this.isLive(announcement, now) }));
  }

  /** The live instance whose claim of `taskId` is the latest, if any. */
  owner(taskId: string): KnownInstance | undefined {
    const now = Date.now();
    let best: { entry: Entry; claim: number } | undefined;
    for (const entry of this.entries.values()) {
      const claim = entry.claims.get(taskId);
      if (claim === undefined || !this.isLive(entry.announcement, now)) continue;
      if (!best || claim > best.claim) best = { entry, claim };
    }
    return best && { ...best.entry.announcement, live: true };
  }

  /**
   * Where the task's changelogs stood after its owner's final commit, if it stopped cleanly and
   * no one has claimed the task as running since (a later announcement in the topic's one
   * partition): nothing has written to those changelogs meanwhile, so a standby copy at exactly
   * these positions holds what a committed read of the task would give.
   */
  handedOver(taskId: string): ChangelogPositions | undefined {
    return this.handovers.get(taskId);
  }

  /**
   * This instance's last announcement before it closes, after a final commit that committed: it
   * claims no task any more and hands `handover`'s tasks over. From then on it sends nothing but
   * its tombstone, so no heartbeat claims those tasks again.
   */
  async handOver(handover: Record<string, ChangelogPositions>): Promise<void> {
    if (this.stopped || this.silent) return;
    clearInterval(this.heartbeat);
    clearTimeout(this.pending);
    this.send({ state: 'stopping', tasks: {}, handover });
    this.silent = true;
    await this.producer.flush(5_000).catch((err) => this.options.log.warn({ err: describeCause(err) }, "could not hand this instance's tasks over"));
  }

  /** Says this instance is gone (a tombstone), then stops reading and disconnects. */
  async close(instance: string): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.pending);
    try {
      this.producer.send({ topic: this.topic, partition: 0, key: Buffer.from(instance), value: null });
      await this.producer.flush(5_000);
    } catch (err) {
      this.options.log.warn({ err: describeCause(err) }, 'could not withdraw this instance from the directory');
    }
    await this.reading;
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }

  private isLive(announcement: Announcement, now: number): boolean {
    return now - announcement.heartbeat <= this.options.staleAfterMs;
  }

  /** Announces this instance, as it is or with `last` said instead (its hand-over). */
  private send(last?: Pick<Announcement, 'state' | 'tasks' | 'handover'>): void {
    if (this.stopped || this.silent) return;
    const self = { ...this.options.self(), ...last, heartbeat: Date.now() };
    try {
      this.producer.send({ topic: this.topic, partition: 0, key: Buffer.from(self.instance), value: Buffer.from(JSON.stringify(self)) });
    } catch (err) {
      this.options.log.warn({ err: describeCause(err) }, 'could not announce this instance');
    }
  }

  private async read(): Promise<void> {
    while (!this.stopped) {
      let batch: ConsumedRecord[];
      try {
        batch = await this.consumer.consume(500, 100);
      } catch (err) {
        this.options.log.warn({ err: describeCause(err) }, 'could not read the instance directory');
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      for (const record of batch) this.apply(record);
      if (batch.length > 0) for (const listener of this.listeners) listener();
    }
  }

  private apply(record: ConsumedRecord): void {
    if (record.key === null) return;
    const instance = record.key.toString();
    if (record.value === null) {
      this.entries.delete(instance);
      return;
    }
    let announcement: Announcement;
    try {
      announcement = JSON.parse(record.value.toString()) as Announcement;
      if (typeof announcement.endpoint !== 'string' || typeof announcement.tasks !== 'object' || typeof announcement.heartbeat !== 'number') throw new TypeError('missing fields');
      if (announcement.forwardKey !== undefined && typeof announcement.forwardKey !== 'string') throw new TypeError('forwardKey is not a string');
    } catch (err) {
      this.options.log.warn({ instance, offset: record.offset, err: describeCause(err) }, 'ignoring an unreadable announcement');
      return;
    }
    const previous = this.entries.get(instance)?.claims;
    const claims = new Map<string, number>();
    for (const [task, state] of Object.entries(announcement.tasks)) {
      claims.set(task, previous?.get(task) ?? record.offset);
      // Running, it may have written to the task's changelogs: the hand-over no longer holds.
      if (state === 'running') this.handovers.delete(task);
    }
    for (const [task, positions] of Object.entries(announcement.handover ?? {})) {
      if (typeof positions === 'object' && positions !== null) this.handovers.set(task, positions);
    }
    this.entries.set(instance, { announcement, claims });
  }
}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
