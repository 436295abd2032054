import { describeCause } from '../../errors.ts';
import { KafkaAdmin } from '../../kafka/admin.ts';
import type { ConnectionOptions } from '../../kafka/config.ts';
import type { TopicPartition } from '../../kafka/records.ts';
import type { Logger } from '../../observability/logger.ts';
import type { CompiledTopology } from '../../topology/compiled.ts';
import { activeTasksOf, standbyTasksOf } from './standby-placement.ts';
import { StandbyTasks } from './standby-tasks.ts';

export interface StandbyReplicaOptions {
  /** `numStandbyReplicas`. */
  replicas: number;
  applicationId: string;
  /** This member's client id, to find it among the group's members. */
  clientId: string;
  topology: CompiledTopology;
  partitions: (topic: string) => number | undefined;
  /** The tasks active here (they need no standby here). */
  active: () => string[];
  stateDir: string;
  connection: ConnectionOptions;
  log: Logger;
}

/** How often the placement is checked besides after each assignment (members come and go). */
const PLACEMENT_INTERVAL_MS = 5_000;
/** How long after an assignment new standbys start: the tasks it gave this member start first. */
const AFTER_ASSIGNMENT_MS = 2_000;

/**
 * `numStandbyReplicas`: after each assignment, and every few seconds, reads the group's members
 * and keeps standbys of the tasks this member would own if their owner failed
 * (standby-placement.ts); before tasks become active here, their standbys let go of their
 * stores, which the tasks then open with only the changelog's tail to restore.
 */
export class StandbyReplicas {
  private readonly admin: KafkaAdmin;
  private timer: NodeJS.Timeout | undefined;
  private planning: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** No placement before this time (ms since the epoch): the tasks an assignment brought start first. */
  private quietUntil = 0;

  private constructor(
    private readonly options: StandbyReplicaOptions,
    readonly tasks: StandbyTasks,
  ) {
    this.admin = KafkaAdmin.connect(options.connection);
    this.timer = setInterval(() => {
      if (Date.now() >= this.quietUntil) this.refresh();
    }, PLACEMENT_INTERVAL_MS);
    this.timer.unref();
  }

  static async start(options: StandbyReplicaOptions): Promise<StandbyReplicas> {
    const storesOf = (sub: number) => options.topology.stores.filter((s) => s.subtopology === sub);
    const tasks = await StandbyTasks.start({ stateDir: options.stateDir, applicationId: options.applicationId, connection: options.connection, log: options.log.child({ component: 'standby' }), storesOf });
    return new StandbyReplicas(options, tasks);
  }

  /** Before these partitions' tasks become active here: their standbys let go of the stores. */
  beforeAssign(partitions: TopicPartition[]): Promise<void> {
    const subOf = new Map(this.options.topology.subtopologies.flatMap((s) => s.sourceTopics.map((t) => [t, s.id] as const)));
    const ids = partitions.flatMap(({ topic, partition }) => (subOf.has(topic) ? [`${subOf.get(topic)}_${partition}`] : []));
    return this.tasks.release(ids);
  }

  /** After an assignment (its tasks now active here): places the standbys again. */
  afterAssign(): void {
    this.tasks.unclaimAll();
    this.quietUntil = Date.now() + AFTER_ASSIGNMENT_MS;
    setTimeout(() => this.refresh(), AFTER_ASSIGNMENT_MS).unref();
  }

  /** Places the standbys again (soon; one placement at a time). */
  refresh(): void {
    if (this.closed) return;
    if (this.planning) {
      this.again = true;
      return;
    }
    this.planning = this.place()
      .catch((err) => this.options.log.warn({ err: describeCause(err) }, 'could not place standby replicas; trying again'))
      .finally(() => {
        this.planning = undefined;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.planning;
    await this.tasks.close();
    this.admin.disconnect();
  }

  /**
   * Before a static member (`instanceId`) joins the group: catches up copies of the tasks it
   * will own once it has joined (the range assignment over the group's members and itself), from
   * their changelogs, unless their checkpoints on disk are current, until each of them is within
   * `acceptableLag` records (or `timeoutMs` has passed, or `signal` aborts); so joining moves
   * no cold task onto it.
   * Nothing to do for the group's first member, or among dynamic members, whose order cannot be
   * known before they join.
   */
  async warmUp(instanceId: string, acceptableLag: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const { options } = this;
    const [group] = await this.admin.describeGroups([options.applicationId]);
    const others = (group?.members ?? []).filter((m) => m.instanceId !== instanceId);
    if (others.length === 0 || others.some((m) => m.instanceId === undefined)) return;
    const members = [...others, { memberId: instanceId, instanceId }];
    const subtopologies = this.subtopologies();
    const own = activeTasksOf(instanceId, members, subtopologies);
    const started = Date.now();
    // A restart finds its tasks' stores current on disk (their checkpoints): nothing to catch up.
    const onDisk = await this.tasks.checkpointLags(own);
    if ([...own].every((id) => (onDisk.get(id) ?? Number.POSITIVE_INFINITY) <= acceptableLag)) {
      options.log.info({ tasks: [...own], ms: Date.now() - started }, 'the tasks this instance will own are current on disk; joining the group');
      return;
    }
    // Only the tasks it will own: its standbys are placed once it has joined.
    await this.tasks.update(new Set(own));
    let reported = 0;
    for (;;) {
      if (signal?.aborted) return;
      const lags = this.tasks.lags();
      const behind = [...own].filter((id) => (lags[id] ?? 0) > acceptableLag);
      if (behind.length === 0) break;
      if (Date.now() - started > timeoutMs) {
        options.log.warn({ tasks: behind, waitedMs: timeoutMs }, 'joining the group before these tasks caught up');
        break;
      }
      if (Date.now() - reported >= 2_000) {
        reported = Date.now();
        options.log.info({ tasks: behind, lag: behind.reduce((n, id) => n + (lags[id] ?? 0), 0) }, 'warming up the tasks this instance will own before it joins the group');
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    options.log.info({ tasks: [...own], ms: Date.now() - started }, 'warmed up; joining the group');
  }

  private subtopologies(): Array<{ id: number; partitions: number }> {
    const { options } = this;
    return options.topology.subtopologies.flatMap((s) => {
      const partitions = options.partitions(s.sourceTopics[0]!);
      return partitions === undefined ? [] : [{ id: s.id, partitions }];
    });
  }

  private async place(): Promise<void> {
    const { options } = this;
    const [group] = await this.admin.describeGroups([options.applicationId]);
    // Mid-rebalance the members are not settled: the assignment that ends it places again.
    if (!group || group.state !== 'STABLE') return;
    const self = group.members.find((m) => m.clientId === options.clientId);
    if (!self) return;
    const wanted = standbyTasksOf(self.memberId, group.members, this.subtopologies(), options.replicas);
    for (const id of options.active()) wanted.delete(id);
    if (this.closed) return;
    await this.tasks.update(wanted);
  }
}
