import type { ConsumedUpTo } from '../record-source.ts';
import type { ConsumedRecord, RecordHeader, TopicPartitionOffset } from '../../kafka/records.ts';
import type { Logger } from '../../observability/logger.ts';
import type { CommitWork, Forward, PunctuationType, TopicOffset } from '../../processors/processor.ts';
import { Punctuators } from './punctuators.ts';
import type { CompiledStore, Subtopology } from '../../topology/compiled.ts';
import { ProcessingError } from '../../errors.ts';
import type { CommittedReader } from '../../../state/committed-reader.ts';
import type { KeyValueStore, WriteContext } from '../../../state/key-value-store.ts';
import { dropLate, StopProcessing, type RecordErrors } from '../record-errors.ts';
import { TaskState, type TaskStateOptions } from './task-state.ts';
import { storeProvider } from './store-provider.ts';
import { StateMachine } from '../../state-machine.ts';
import { TASK_TRANSITIONS, type Input, type TaskPhase, type TaskRecordContext } from './task-parts.ts';
import { TaskMetadata } from './task-metadata.ts';
import type { RecordOutput } from '../record-output.ts';
import { asTaskCorrupted, detectingCorruption, FlushFailed, TaskCorrupted } from './task-signals.ts';
import { fanOut, guarded, prefetcher, sinkForward, sourceEntry, type GuardedTask } from './record-path.ts';
import { PartitionQueues } from './partition-queues.ts';
import { TaskBackground } from './background.ts';
import type { BackgroundProcessorInit, BackgroundServices, BackgroundWork } from '../../processors/background.ts';
import { machineBackground } from './machine-background.ts';
import type { NodeCounts } from '../../observability/node-counts.ts';

/** What a task needs from the application around it. */
export interface TaskDependencies {
  producer: RecordOutput;
  errors: RecordErrors;
  nodes: NodeCounts;
  log: Logger;
  /** Wall-clock time in ms since the epoch (Date.now, or a test driver's clock). */
  clock: () => number;
  /** The global tables' stores (read-only, outside any task), by name. */
  globals?: (name: string) => KeyValueStore<unknown, unknown> | undefined;
  /** Timers and counters for async operators; the machine's timers when not given. */
  background?: BackgroundServices;
}

/** How a task is set up besides its dependencies. */
export interface TaskOptions {
  /** A store has many uncommitted changes and asks for an early commit. */
  onStorePressure?: () => void;
  /** A read from outside the task (a query) found a store damaged: the task is to be recovered. */
  onStoreDamaged?: (damage: TaskCorrupted) => void;
  /** The caches pass each write on at once until the next commit (after a failed flush: {@link FlushFailed}). */
  writeThrough?: boolean;
}

/** A sub-topology at work on one partition number: a per-record path of plain calls, built once (`process` never awaits); records in offset order, several inputs' by timestamp ({@link queues}). */
export class Task {
  readonly id: string;
  readonly partition: number;
  private readonly context: TaskRecordContext;
  /** The topics this task reads (its partition of each), with how far each is processed and committed. */
  readonly inputs = new Map<string, Input>();
  /** Where a task of several inputs takes records, to process them in timestamp order. */
  readonly queues: PartitionQueues | undefined;
  private current: ConsumedRecord | undefined;
  private state: TaskState | undefined;
  /** created → restoring → running (↔ suspended) → closed; see {@link TASK_TRANSITIONS}. */
  readonly phase: StateMachine<TaskPhase>;
  private readonly subtopology: Subtopology;
  private readonly deps: TaskDependencies;
  private readonly options: TaskOptions;
  /** Stream time and the processors' numbers, committed with the input positions. */
  private readonly metadata = new TaskMetadata();
  private overflowNoted = false;
  private groupCommitted: TopicPartitionOffset[] = [];
  private readonly punctuators = new Punctuators();
  /** Work each commit awaits (external writes), in the order the nodes registered it. */
  private readonly commitWork: Array<(commit: CommitWork) => Promise<void>> = [];
  /** Nodes that hold the committable position back while their external writes are in flight. */
  private readonly holds: Array<() => TopicOffset | readonly TopicOffset[] | undefined> = [];
  /** Nodes' work outside the per-record path (async operators), which the loop resumes between batches. */
  readonly background = new TaskBackground();
  private readonly releases: Array<() => Promise<void> | void> = [];
  /** True while the stores' caches pass their changes on (at a commit). */
  private flushing = false;
  /** True while the caches pass every write on at once (until the next commit). */
  private writeThrough: boolean;
  private readonly onStoreDamaged: NonNullable<TaskOptions['onStoreDamaged']>;

  constructor(subtopology: Subtopology, partition: number, deps: TaskDependencies, options: TaskOptions = {}) {
    this.id = `${subtopology.id}_${partition}`;
    this.partition = partition;
    this.subtopology = subtopology;
    this.deps = deps;
    this.options = options;
    this.phase = new StateMachine<TaskPhase>(`task ${this.id}`, 'created', TASK_TRANSITIONS);
    this.onStoreDamaged = options.onStoreDamaged ?? (() => {});
    this.writeThrough = options.writeThrough ?? false;
    this.context = { topic: '', partition, offset: -1, timestamp: 0, headers: undefined };
    this.queues = subtopology.sourceTopics.length > 1 ? new PartitionQueues(subtopology.sourceTopics, partition) : undefined;
  }

  /** The largest record timestamp seen: the clock of stores with a TTL and of stream-time punctuation. */
  get streamTime(): number {
    return this.metadata.streamTime;
  }

  /** Takes the positions, stream time and processors' numbers the last commit recorded (before `start`). */
  restoreMetadata(committed: TopicPartitionOffset[]): void {
    this.metadata.restore(committed.map((offset) => offset.metadata));
    // Where the group's last commit left each input (a kept task is checked against it), taken at `start`.
    this.groupCommitted = committed;
  }

  /** Opens the task's stores (created → restoring); restoration is the caller's (restore.ts). */
  async open(stores: CompiledStore[] | undefined, options: Omit<TaskStateOptions, 'log'>): Promise<TaskState | undefined> {
    this.phase.transition('restoring');
    if (stores) this.state = await TaskState.open(this.id, this.partition, stores, { ...options, log: this.deps.log });
    return this.state;
  }

  /**
   * Builds the per-record path over the restored stores (→ running): each node's processor,
   * from the sinks back to the sources, as plain function calls.
   */
  start(): void {
    this.phase.transition('running');
    const { deps, subtopology } = this;
    const onStorePressure = this.options.onStorePressure ?? (() => {});
    const state = this.state;
    this.writeThrough &&= state !== undefined;
    state?.activate({ producer: deps.producer, onPressure: onStorePressure, now: () => this.streamTime, writeThrough: this.writeThrough });
    const log = deps.log.child({ task: this.id });
    const context = this.context;
    const stores = storeProvider(this.id, state, deps.globals);
    const restoreContext = (write: WriteContext | undefined) => {
      if (write === undefined) return;
      context.timestamp = write.timestamp;
      context.headers = write.headers as RecordHeader[] | undefined;
    };
    const schedule = (intervalMs: number, type: PunctuationType, punctuate: (timestamp: number) => void) => this.punctuators.schedule(intervalMs, type, punctuate);
    const onCommit = (work: (commit: CommitWork) => Promise<void>) => void this.commitWork.push(work);
    const holdPosition = (position: () => TopicOffset | readonly TopicOffset[] | undefined) => void this.holds.push(position);
    const background = { ...(deps.background ?? machineBackground()), attach: (work: BackgroundWork) => this.background.attach(work), resumeAs: (raw: ConsumedRecord, write: WriteContext, run: () => void) => this.runAs(raw, write.timestamp, write.headers as RecordHeader[] | undefined, run) };
    const onClose = (release: () => Promise<void> | void) => void this.releases.push(release);
    const record = () => this.current;
    const guard: GuardedTask = { id: this.id, current: () => this.current, unwritable: (operator, error) => this.unwritable(operator, error), errors: deps.errors };
    // The record's event time, as its source read it: the context's timestamp and stream time follow it.
    const metadata = this.metadata;
    const stamp = (timestamp: number) => {
      context.timestamp = timestamp;
      if (timestamp > metadata.streamTime) metadata.streamTime = timestamp;
    };
    const forwards = new Map<string, Forward>();
    for (const node of [...subtopology.nodes].reverse()) {
      const children = new Map(node.children.map((child) => [child, forwards.get(child)!]));
      const next = fanOut([...children.values()]);
      if (node.kind === 'source') {
        for (const topic of node.topics) {
          this.inputs.set(topic, { topic, run: sourceEntry(node, next, deps.errors, stamp, deps.nodes.of(node.name)), prefetch: prefetcher(node), next: -1, committed: -1 });
        }
        continue;
      }
      const forward =
        node.kind === 'sink'
          ? sinkForward(node, deps.producer, context)
          : node.supplier({
              name: node.name,
              context,
              next,
              children,
              log: log.child({ operator: node.name }),
              stores,
              restoreContext,
              schedule,
              onCommit,
              holdPosition,
              onClose,
              requestCommit: onStorePressure,
              wallClock: deps.clock,
              record,
              fail: (raw, error) => deps.errors.handle(node.onError, { raw, stage: 'processing', operator: node.name, error }),
              metadata: this.metadata,
              late: (store, reason) => {
                const raw = this.current;
                if (raw) dropLate(deps.errors, { raw, operator: node.name, store, reason, onLate: node.onLate });
              },
              skip: (reason) => deps.errors.drop(this.current, node.name, reason),
              background: { ...background, replayableInput: node.replayableInput === true },
            } as BackgroundProcessorInit);
      forwards.set(node.name, guarded(node, forward, guard, deps.nodes.of(node.name)));
    }
    this.committed(this.groupCommitted);
    state?.releaseRestored();
  }

  /** Runs one record through the sub-topology. Throws only {@link StopProcessing} and {@link TaskCorrupted}. */
  process(record: ConsumedRecord): void {
    const input = this.inputs.get(record.topic);
    if (input === undefined) return;
    const context = this.context;
    context.topic = record.topic;
    context.offset = record.offset;
    context.timestamp = record.timestamp;
    context.headers = record.headers;
    const metadata = this.metadata;
    this.current = record;
    input.run(record);
    input.next = record.offset + 1;
    if (this.punctuators.dueAt('stream-time', metadata.streamTime)) this.punctuate('stream-time', metadata.streamTime);
  }

  /** A reader of the committed state of one of this task's stores, if it has that store. */
  reader(store: string): CommittedReader<unknown, unknown> | undefined {
    return this.state?.reader(
      store,
      () => this.streamTime,
      (error) => this.onStoreDamaged(new TaskCorrupted(this.id, error)),
      () => this.metadata.get(`written:${store}`),
    );
  }

  /** About how many bytes each of this task's stores takes on disk. */
  storeSizes(): Promise<Array<{ store: string; partition: number; bytes: number }>> {
    return this.state?.sizes() ?? Promise.resolve([]);
  }

  /** True when a wall-clock punctuation is due at `now`. */
  punctuationDue(now: number): boolean {
    return this.punctuators.dueAt('wall-clock', now);
  }

  /**
   * Runs the punctuations of `type` due at `time`, outside any record: the context carries the
   * punctuation's time and no headers. Throws only {@link StopProcessing}.
   */
  punctuate(type: PunctuationType, time: number): void {
    try {
      this.runAs(undefined, time, undefined, () => this.punctuators.run(type, time));
    } catch (error) {
      if (error instanceof StopProcessing) throw error;
      const corrupted = asTaskCorrupted(this.id, error);
      if (corrupted) throw corrupted;
      throw new StopProcessing(new ProcessingError('punctuation', `a ${type} punctuation at ${time}`, error));
    }
  }

  /** Runs `run` with the record in hand and the context set to `raw` (none: a punctuation), `timestamp` and `headers`; then puts them back. */
  private runAs(raw: ConsumedRecord | undefined, timestamp: number, headers: RecordHeader[] | undefined, run: () => void): void {
    const context = this.context;
    const saved = { topic: context.topic, offset: context.offset, timestamp: context.timestamp, headers: context.headers, current: this.current };
    this.current = raw;
    context.topic = raw?.topic ?? '';
    context.offset = raw?.offset ?? -1;
    context.timestamp = timestamp;
    context.headers = headers;
    try {
      run();
    } finally {
      this.current = saved.current;
      context.topic = saved.topic;
      context.offset = saved.offset;
      context.timestamp = saved.timestamp;
      context.headers = saved.headers;
    }
  }

  /** What must be fetched before `record` can be processed (a writer schema), if anything. */
  prefetch(record: ConsumedRecord): Promise<unknown> | undefined {
    return this.inputs.get(record.topic)?.prefetch?.(record);
  }

  /** Runs the nodes' commit work (external writes), one after another; `drain` before the task closes. */
  async beforeCommit(drain = false, closing = false): Promise<void> {
    this.current = undefined;
    for (const work of this.commitWork) await work({ drain, closing });
  }

  async sweepExpired(): Promise<void> {
    const state = this.state;
    if (state) await detectingCorruption(this.id, () => state.sweepExpired());
  }

  /** Passes the stores' cached changes down and on (at commit; outputs may follow). */
  flushState(): void {
    if (!this.state) return;
    this.current = undefined;
    this.flushing = true;
    try {
      this.state.flush();
    } catch (error) {
      if (error instanceof StopProcessing || error instanceof FlushFailed) throw error;
      throw asTaskCorrupted(this.id, error) ?? this.unwritable('a store', error);
    } finally {
      this.flushing = false;
    }
  }

  /** After a commit: changelog positions move to what it made durable; writing through ends once a commit took the input further. */
  advance(producer: RecordOutput, progressed: boolean): void {
    if (this.writeThrough && progressed) {
      this.writeThrough = false;
      this.state?.restoreCaching();
    }
    this.state?.advance(producer, (topic) => {
      const input = this.inputs.get(topic);
      return input === undefined || input.committed < 0 ? undefined : input.committed;
    });
  }

  async writeState(): Promise<void> {
    const state = this.state;
    if (!state) return;
    await detectingCorruption(this.id, async () => {
      await state.write();
      await this.dropExpiredSegments(state);
    });
  }

  /** Drops the windows past their stores' retention, by the latest window times last committed. */
  dropExpiredSegments(state = this.state): Promise<void> {
    return state?.dropExpiredSegments((store) => this.metadata.get(`written:${store}`)) ?? Promise.resolve();
  }

  /** Where each changelog partition of this task's stores stood at the last commit (`topic[partition]` → offset). */
  changelogPositions(): Array<[string, number]> {
    return this.state?.changelogPositions() ?? [];
  }

  checkpoint(): void {
    this.state?.checkpoint();
  }

  /** Kept, stores open, across a rebalance only when nothing of it lives outside its stores between commits (no commit work, no held position). */
  get keepable(): boolean {
    return this.commitWork.length === 0 && this.holds.length === 0;
  }

  /** After a commit (running → suspended); records it waited with are forgotten, to be read again. */
  suspend(): void {
    this.phase.transition('suspended');
    this.queues?.clear();
  }

  /** Takes records again, from its committed positions (suspended → running). */
  resume(): void {
    this.phase.transition('running');
  }

  /** Closes the stores (they stay on disk) and releases what the nodes hold; from any phase. */
  async close(): Promise<void> {
    if (this.phase.is('closed')) return;
    this.phase.transition('closed');
    try {
      await this.state?.close();
    } finally {
      for (const release of this.releases.splice(0)) await release();
    }
  }

  /** Positions processed since the last commit (as far as no node holds them back), to commit now. */
  uncommitted(consumedUpTo?: ConsumedUpTo): TopicPartitionOffset[] {
    const offsets: TopicPartitionOffset[] = [];
    let metadata: string | undefined;
    for (const input of this.inputs.values()) {
      const offset = this.committable(input, consumedUpTo);
      if (offset > input.committed) offsets.push({ topic: input.topic, partition: this.partition, offset, metadata: (metadata ??= this.metadata.encode()) });
    }
    if (this.metadata.overflowed && !this.overflowNoted) {
      this.overflowNoted = true;
      this.deps.log.warn({ task: this.id }, "the windowed operators' observed times do not fit the offset commit's metadata (4 KB); after a restart they start again from their records");
    }
    return offsets;
  }

  /** How far an input may be committed: after the last record processed, or where a node holds it. */
  private committable(input: Input, consumedUpTo: ConsumedUpTo | undefined): number {
    let offset = input.next;
    // Past the transaction markers after the last record once all taken is processed, as Kafka Streams commits.
    const consumed = input.next >= 0 && !this.queues?.waiting(input.topic) ? consumedUpTo?.(input.topic, this.partition) : undefined;
    if (consumed !== undefined && consumed > offset) offset = consumed;
    for (const hold of this.holds) {
      const held = hold();
      for (const at of held === undefined ? [] : 'topic' in held ? [held as TopicOffset] : (held as readonly TopicOffset[])) if (at.topic === input.topic && at.offset < offset) offset = at.offset;
    }
    return offset;
  }

  /** Records that these positions are committed. */
  committed(offsets: TopicPartitionOffset[]): void {
    for (const { topic, offset } of offsets) {
      const input = this.inputs.get(topic);
      if (input && offset > input.committed) input.committed = offset;
    }
  }

  /**
   * A failure outside any record: at a commit's flush, the first time, the task is to process
   * its records again with its caches passing each write on at once ({@link FlushFailed});
   * otherwise (a punctuation, or a flush already written through) nothing can be blamed, and
   * processing stops.
   */
  private unwritable(operator: string, error: unknown): Error {
    if (this.flushing && !this.writeThrough) return new FlushFailed(this.id, error);
    return new StopProcessing(new ProcessingError(operator, 'an update flushed from a store', error));
  }
}
