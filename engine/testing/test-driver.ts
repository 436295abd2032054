import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StreamsBuilder } from '../dsl/builder.ts';
import { Topology } from '../dsl/topology.ts';
import { describeCause, IllegalStateError, TopologyError, UsageError } from '../errors.ts';
import type { ConsumedRecord, ProducerRecord, RecordHeader } from '../kafka/records.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { compileApplication, type ApplicationDefinition, type ApplicationSettings } from '../runtime/definition.ts';
import { RecordErrors } from '../runtime/record-errors.ts';
import { ProcessingLoop } from '../runtime/processing-loop.ts';
import { InProcessCommit } from './in-process-commit.ts';
import { prepareSerdes } from '../runtime/serde-preparation.ts';
import { Tasks } from '../runtime/task/tasks.ts';
import { Serdes, type Serde } from '../serde/serde.ts';
import type { CompiledSource, CompiledTopology } from '../topology/compiled.ts';
import { TopicLog } from './topic-log.ts';
import { DriverGlobals } from './driver-globals.ts';
import { DriverTimers } from './driver-timers.ts';
import { AsyncStats } from '../observability/async-stats.ts';
import { NodeCounts } from '../observability/node-counts.ts';
import { GlobalTables } from '../runtime/global/global-tables.ts';
import type { CommittedReader } from '../../state/committed-reader.ts';

export interface TestDriverOptions {
  /** Overrides the definition's settings (applicationId, default serdes, error handling). */
  settings?: Partial<ApplicationSettings>;
  /** The driver's wall-clock time at the start, in ms since the epoch. Default: now. */
  startTimeMs?: number;
  /** Where the stores live; default a new temporary directory, deleted by `close`. */
  stateDir?: string;
  /** Default: silent, unless SLUICE_LOG_LEVEL sets a level. */
  logger?: Logger;
  /** How long (real time) a call waits for async calls in flight before it returns; their time-outs and back-offs follow the driver's clock. Default 5,000. */
  asyncWaitMs?: number;
}

/** A record as the test reads it back. */
export interface TestRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers: RecordHeader[] | undefined;
}

/** How a test writes a record: its timestamp defaults to the driver's wall clock. */
export interface PipeOptions {
  timestamp?: number;
  headers?: RecordHeader[];
}

/**
 * Runs a topology in this process, without a broker: the test pipes records into its input
 * topics, reads what it wrote to its output topics, reads its stores and moves its wall clock.
 * Every sub-topology runs as one task on partition 0, with real stores (LevelDB) and the same
 * per-record path, caches, punctuation and commit steps as an application; records written to
 * topics the topology reads (repartition topics) are processed in turn, in the order they were
 * written.
 *
 * Each `pipe` is processed to the end, then committed (stores flushed, a sink's writes
 * finished and passed on), so outputs and store reads show all its effects when it resolves. `pipeMany` commits once
 * after all its records, as one consumed batch would. Wall-clock punctuation runs only when
 * the test moves the clock (`advanceWallClockTime`); stream-time punctuation follows the
 * records' timestamps. A record that fails with the `fail` handling rejects the call with the
 * application's error, and the driver then refuses to process more (the application would have
 * stopped); dead-letter routing writes to the dead-letter topic, which the test can read.
 *
 * It does not simulate crashes, rebalances, several partitions or transactions: tests of those
 * need a broker.
 *
 * @example
 * ```ts
 * const driver = await TestDriver.create(app);
 * await driver.inputTopic<string, Order>('orders').pipe('o-1', { amount: 5 });
 * expect(driver.outputTopic<string, Order>('priced-orders').readKeyValues()).to.deep.equal([['o-1', { amount: 5, price: 6 }]]);
 * await driver.close();
 * ```
 */
export class TestDriver {
  private closed = false;
  /** What stopped processing, as it would have stopped the application. */
  private failure: unknown;
  /** Serialises calls that process: a test that does not await still sees them in order. */
  private running: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly topology: CompiledTopology,
    private readonly tasks: Tasks,
    private readonly loop: ProcessingLoop,
    private readonly log: TopicLog,
    private readonly stateDir: { path: string; owned: boolean },
    /** The wall clock, shared with the tasks. */
    private readonly timers: DriverTimers,
    private readonly settings: ApplicationSettings,
    private readonly errors: RecordErrors,
    private readonly globals: DriverGlobals,
  ) {}

  /** Records operators dropped as specified (a join's null key), per operator: `sluice_dropped_records_total`. */
  droppedRecords(): Map<string, number> {
    return new Map(this.errors.dropped);
  }

  static async create(app: ApplicationDefinition | Topology | ((builder: StreamsBuilder) => void), options: TestDriverOptions = {}): Promise<TestDriver> {
    const definition: ApplicationDefinition =
      app instanceof Topology || typeof app === 'function' ? { applicationId: 'test-driver', topology: app } : app;
    const settings: ApplicationSettings = { ...definition, ...options.settings, applicationId: options.settings?.applicationId ?? definition.applicationId };
    const topology = compileApplication(definition, settings);
    // Errors reach the test as rejections and dead letters as records: logs only on request.
    const logger = options.logger ?? createLogger({ component: 'test-driver' }, process.env.SLUICE_LOG_LEVEL ?? 'silent');
    await prepareSerdes(topology, logger);
    const stateDir = options.stateDir ? { path: options.stateDir, owned: false } : { path: fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-test-driver-')), owned: true };
    const read = new Set(topology.subtopologies.flatMap((s) => s.sourceTopics));
    const time = { now: options.startTimeMs ?? Date.now() };
    const clock = () => time.now;
    const timers = new DriverTimers(time);
    const log = new TopicLog(read, clock);
    const errors = new RecordErrors(log, logger);
    const globals = new DriverGlobals(await GlobalTables.open(topology, { stateDir: stateDir.path, applicationId: settings.applicationId, log: logger, errors }), log, topology);
    const tasks = new Tasks(
      topology,
      { producer: log, errors, nodes: new NodeCounts(), log: logger, clock, globals: globals.tables.lookup, background: { timers, stats: new AsyncStats(), exactlyOnce: false, drainWaitMs: options.asyncWaitMs ?? 5_000 } },
      // Fresh stores: nothing to restore (a driver's state directory is its own).
      { stateDir: stateDir.path, applicationId: settings.applicationId, restore: async () => {}, committed: async () => [] },
    );
    const loop = new ProcessingLoop({
      source: log,
      output: log,
      protocol: new InProcessCommit(log),
      tasks,
      // The driver commits after each call: no commit by interval or by records in flight.
      options: { maxBatch: 5_000, pollTimeoutMs: 0, commitIntervalMs: Number.POSITIVE_INFINITY, maxInFlight: Number.POSITIVE_INFINITY, maxTaskIdleMs: settings.maxTaskIdleMs ?? 0, undeliveredWaitMs: 1_000 },
      log: logger,
      clock,
    });
    const driver = new TestDriver(topology, tasks, loop, log, stateDir, timers, settings, errors, globals);
    await tasks.assign([...read].map((topic) => ({ topic, partition: 0 })));
    // The first check sets each wall-clock schedule's first due time.
    tasks.punctuate(time.now);
    return driver;
  }

  /** The driver's wall-clock time, in ms since the epoch. */
  get wallClockTime(): number {
    return this.timers.now;
  }

  /** A writer of one of the topics the topology reads; its serdes default to the topology's source serdes for it. */
  inputTopic<K = unknown, V = unknown>(topic: string, serdes: { key?: Serde<K>; value?: Serde<V> } = {}): TestInputTopic<K, V> {
    const source = this.topology.subtopologies.flatMap((s) => s.nodes).find((n): n is CompiledSource => n.kind === 'source' && n.topics.includes(topic)) ?? this.globals.readerOf(topic);
    if (!source) {
      const topics = [...this.topology.subtopologies.flatMap((s) => s.sourceTopics), ...this.globals.topics].filter((t) => !this.topology.internalTopics.some((i) => i.name === t));
      throw new TopologyError(undefined, `The topology reads no topic "${topic}"; it reads ${topics.map((t) => `"${t}"`).join(', ')}.`);
    }
    return new TestInputTopic<K, V>(this, topic, (serdes.key ?? source.keySerde) as Serde<K>, (serdes.value ?? source.valueSerde) as Serde<V>);
  }

  /**
   * A reader of a topic the topology writes (outputs, dead letters, changelogs); its serdes
   * default to those of the topology's sink or store for it, else the application's defaults,
   * else bytes.
   */
  outputTopic<K = unknown, V = unknown>(topic: string, serdes: { key?: Serde<K>; value?: Serde<V> } = {}): TestOutputTopic<K, V> {
    const sink = this.topology.subtopologies.flatMap((s) => s.nodes).find((n) => n.kind === 'sink' && n.topic === topic);
    const store = this.topology.stores.find((s) => s.changelogTopic === topic);
    const fallback = sink?.kind === 'sink' ? sink : store;
    const key = serdes.key ?? fallback?.keySerde ?? this.settings.keySerde ?? Serdes.bytes();
    const value = serdes.value ?? fallback?.valueSerde ?? this.settings.valueSerde ?? Serdes.bytes();
    return new TestOutputTopic<K, V>(this.log, topic, key as Serde<K>, value as Serde<V>);
  }

  /** The committed contents of a store (as an interactive query would read them), a global table's included. */
  store<K = unknown, V = unknown>(name: string): TestStore<K, V> {
    const global = this.globals.tables.queryable().find((g) => g.spec.name === name);
    const spec = this.topology.stores.find((s) => s.name === name);
    const names = [...this.topology.stores, ...this.topology.globalStores].map((s) => `"${s.name}"`);
    if (!spec && !global) throw new TopologyError(undefined, `The topology has no store "${name}"; it has ${names.join(', ') || 'none'}.`);
    const closed = () => new IllegalStateError(`The store "${name}" is not open (the driver is closed).`);
    if (global) {
      if (this.closed) throw closed();
      return storeOf(global.reader, global.spec);
    }
    const found = this.tasks.query(`${spec!.subtopology}_0`, name);
    if (found.state !== 'running') throw closed();
    return storeOf(found.reader, spec!);
  }

  /** Moves the wall clock on, runs the wall-clock punctuations now due, processes what they sent, and commits. */
  advanceWallClockTime(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new UsageError(`advanceWallClockTime needs a non-negative number of milliseconds, not ${ms}.`);
    return this.serially(async () => {
      this.timers.advanceTo(this.timers.now + ms);
      await this.settle();
    });
  }

  /**
   * Writes records as a producer would, processes them and what follows, then commits once (see
   * {@link TestInputTopic}). A record of a global table's topic updates its store at once: the
   * records written before it are processed first, those after it see it.
   */
  write(records: ProducerRecord[]): Promise<void> {
    return this.serially(async () => {
      for (const record of records) {
        const global = this.globals.readerOf(record.topic) !== undefined;
        if (global && this.log.waiting > 0) await this.settle();
        this.log.append(record);
        if (global) await this.globals.catchUp();
      }
      await this.settle();
    });
  }

  /** Finishes the commit work in flight, then closes the stores and, unless given, deletes the state directory. */
  close(): Promise<void> {
    return this.serially(async () => {
      if (this.closed) return;
      this.closed = true;
      try {
        await this.loop.commit({ drain: true, closing: true });
      } finally {
        await this.tasks.closeAll();
        await this.globals.tables.close();
        if (this.stateDir.owned) fs.rmSync(this.stateDir.path, { recursive: true, force: true });
      }
    }, true);
  }

  /**
   * Runs `work` after the calls before it. Refused once the driver is closed, or once processing
   * failed (an application would have stopped there), unless it is the close.
   */
  private serially(work: () => Promise<void>, closing = false): Promise<void> {
    const next = this.running.then(async () => {
      if (!closing) {
        if (this.closed) throw new IllegalStateError('The test driver is closed.');
        if (this.failure !== undefined) throw new IllegalStateError(`The test driver stopped processing after an error (${describeCause(this.failure)}); close it.`);
      }
      try {
        await work();
      } catch (err) {
        if (!closing) this.failure = err;
        throw err;
      }
    });
    this.running = next.catch(() => undefined);
    return next;
  }

  /**
   * Runs the application's processing loop over the driver's topics until nothing is pending:
   * batch by batch (what a batch sends to topics the topology reads comes in the next), with the
   * wall-clock punctuations due after each, then a draining commit (a sink's writes in flight
   * finish, so every effect of the call is visible when it returns); again while that sent more.
   * A record that fails with `fail` throws the error the application would stop with.
   */
  private async settle(): Promise<void> {
    do {
      do {
        await this.loop.step();
        // What the topology wrote to a global table's topic reaches its store before the next batch.
        await this.globals.catchUp();
      } while (this.log.waiting > 0);
      await this.loop.commit({ drain: true });
    } while (this.log.waiting > 0);
  }
}

/** The committed contents of a store, read through the driver. */
export interface TestStore<K, V> {
  get(key: K): V | undefined;
  /** Every entry, in the byte order of the serialized keys. */
  all(): Promise<Array<[K, V]>>;
}

/** A store's committed contents through its reader. */
function storeOf<K, V>(reader: CommittedReader<unknown, unknown>, spec: { keySerde: Serde<unknown>; changelogTopic: string }): TestStore<K, V> {
  return {
    get: (key: K) => reader.get(spec.keySerde.serialize(key, spec.changelogTopic)!) as V | undefined,
    all: async () => {
      const entries: Array<[K, V]> = [];
      for (let after: Buffer | undefined; ; ) {
        const page = await reader.scan({ after, limit: 1_000 });
        for (const e of page) entries.push([e.key as K, e.value as V]);
        if (page.length < 1_000) return entries;
        after = page[page.length - 1]!.keyBytes;
      }
    },
  };
}

/** Writes records to one input topic of a {@link TestDriver}. */
export class TestInputTopic<K, V> {
  /** The serdes' set-up for the topic (an Avro serde registers or looks up its schema), once. */
  private prepared: Promise<unknown> | undefined;

  constructor(
    private readonly driver: TestDriver,
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  /** Writes one record, processes it and what follows from it, then commits. */
  pipe(key: K, value: V, options: PipeOptions = {}): Promise<void> {
    return this.pipeMany([[key, value, options]]);
  }

  /** Writes the records, processes them all, then commits once (as one consumed batch). */
  async pipeMany(records: Array<[K, V] | [K, V, PipeOptions]>): Promise<void> {
    // A failed set-up (a registry away) is tried again at the next write.
    this.prepared ??= Promise.all([this.keySerde.prepare?.(this.topic), this.valueSerde.prepare?.(this.topic)]).catch((err: unknown) => {
      this.prepared = undefined;
      throw err;
    });
    await this.prepared;
    return this.driver.write(
      records.map(([key, value, options]) => ({
        topic: this.topic,
        key: this.keySerde.serialize(key, this.topic),
        value: this.valueSerde.serialize(value, this.topic),
        timestamp: options?.timestamp,
        headers: options?.headers,
      })),
    );
  }

  /** Writes a record's bytes as they are (a poison record a producer might send). */
  pipeRaw(key: Buffer | null, value: Buffer | null, options: PipeOptions = {}): Promise<void> {
    return this.driver.write([{ topic: this.topic, key, value, timestamp: options.timestamp, headers: options.headers }]);
  }
}

/** Reads one topic a {@link TestDriver} wrote, from the first record on; each read moves past what it returned. */
export class TestOutputTopic<K, V> {
  private position = 0;

  constructor(
    private readonly log: TopicLog,
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  /** How many records are left to read. */
  get size(): number {
    return this.log.size(this.topic) - this.position;
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** The records not read yet, deserialized. */
  readRecords(): Array<TestRecord<K, V>> {
    const records = this.log.records(this.topic, this.position);
    this.position += records.length;
    return records.map((r) => this.decode(r));
  }

  /** The next record, or undefined when none is left. */
  readRecord(): TestRecord<K, V> | undefined {
    const record = this.log.record(this.topic, this.position);
    if (!record) return undefined;
    this.position++;
    return this.decode(record);
  }

  readKeyValues(): Array<[K, V]> {
    return this.readRecords().map((r) => [r.key, r.value]);
  }

  readValues(): V[] {
    return this.readRecords().map((r) => r.value);
  }

  /** The latest value of each key among the records not read yet (null: deleted), as a compacted topic would keep it. */
  readKeyValuesToMap(): Map<K, V> {
    const latest = new Map<K, V>();
    for (const { key, value } of this.readRecords()) latest.set(key, value);
    return latest;
  }

  /** The records not read yet, as bytes (dead-letter records keep the original ones). */
  readRaw(): ConsumedRecord[] {
    const records = this.log.records(this.topic, this.position);
    this.position += records.length;
    return records;
  }

  private decode(record: ConsumedRecord): TestRecord<K, V> {
    return {
      key: this.keySerde.deserialize(record.key, this.topic),
      value: this.valueSerde.deserialize(record.value, this.topic),
      timestamp: record.timestamp,
      headers: record.headers,
    };
  }
}
