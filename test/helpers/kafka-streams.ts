/**
 * Runs the same input through Kafka Streams and through Sluice on the test broker, and compares
 * what they wrote. The Kafka Streams side is a scenario of bench/systems/kafka-streams
 * (`sluice.compat.SemanticsApp`, topologies in `Scenarios.java`), run as a child process; the
 * Sluice side is an ApplicationDefinition run in this process. Each run lasts until the app's
 * consumer group has committed the end of every input partition, then the app is stopped, so a
 * test can write more input and run again (a restart, restoring from the committed offset).
 * docs/testing.md says how to add a scenario.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import type { ConsumedRecord } from '../../engine/kafka/records.ts';
import type { Application } from '../../engine/runtime/application.ts';
import type { ApplicationDefinition, ProcessingGuarantee } from '../../engine/runtime/definition.ts';
import { startApplication } from './app.ts';
import { bootstrapServers, createUniqueTopic, readAll, uniqueName } from './kafka.ts';
import { tempStateDir } from './state.ts';

const PROJECT = path.resolve(import.meta.dirname, '..', '..', 'bench', 'systems', 'kafka-streams');
const TARGET = path.join(PROJECT, 'target');
/** Written after a successful build; a build is skipped while it is newer than every source. */
const BUILT = path.join(TARGET, '.built');
/** Both sides commit this often (ms), so that a run ends soon after its input does. */
const COMMIT_INTERVAL_MS = 100;
/** How long a run may take to commit its input's end, and a child to stop after SIGTERM. */
const RUN_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;

/** One run of either side: its consumer group and topics. */
export interface Run {
  /** The consumer group; the same id again resumes from its committed offsets. */
  applicationId: string;
  inputs: string[];
  output: string;
  /** Inputs read as global tables: no group commits their offsets, so a run waits for the others only. */
  global?: string[];
}

/** The inputs whose committed ends tell that a run has processed everything. */
const committedInputs = (run: Run) => run.inputs.filter((topic) => !run.global?.includes(topic));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** The newest modification time of the files under `file` (itself, when a file). */
function newest(file: string): number {
  const stat = fs.statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...fs.readdirSync(file).map((name) => newest(path.join(file, name))));
}

async function buildOnce(): Promise<void> {
  const sources = Math.max(newest(path.join(PROJECT, 'pom.xml')), newest(path.join(PROJECT, 'src')));
  if (fs.existsSync(BUILT) && fs.statSync(BUILT).mtimeMs >= sources) return;
  const missing = ['java', 'javac', 'mvn'].filter((command) => !onPath(command));
  if (missing.length > 0) {
    throw new Error(
      `The Kafka Streams side of the compatibility tests needs a JDK 17 or newer (java, javac) and Maven (mvn) on the PATH; missing: ${missing.join(', ')}. ` +
        'On Debian or Ubuntu scripts/setup.sh installs them (default-jdk-headless, maven).',
    );
  }
  const child = spawn('mvn', ['-B', '-q', 'package'], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`\`mvn -B -q package\` in ${path.relative(process.cwd(), PROJECT)} failed (exit ${code}):\n${output}`);
  fs.writeFileSync(BUILT, new Date().toISOString() + '\n');
}

let built: Promise<void> | undefined;

/** Builds the Kafka Streams project with Maven, once per process (and not when nothing changed). */
export function buildKafkaStreams(): Promise<void> {
  return (built ??= buildOnce());
}

/**
 * Waits until group `applicationId` has committed, for every partition of `inputs` that holds
 * records, the partition's end as it was when the wait began; then the same for the group's
 * internal topics the inputs gave rise to (`<applicationId>-…-repartition`, and Kafka Streams'
 * foreign-key join topics, `…-SUBSCRIPTION-REGISTRATION-<n>-topic` and `…-SUBSCRIPTION-RESPONSE-<n>-topic`),
 * again until their ends stop moving: records read from one internal topic may write another.
 * `failed` is asked on each round and throws when the app has stopped on its own.
 */
export async function untilCommitted(applicationId: string, inputs: string[], failed: () => void, timeoutMs = RUN_TIMEOUT_MS): Promise<void> {
  await untilCommittedOnce(applicationId, inputs, failed, timeoutMs);
  const internal = /(-repartition|-subscription-(registration|response)(-\d+)?-topic)$/i;
  for (let seen = -1; ; ) {
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    let topics: string[];
    let ends: number;
    try {
      topics = (await admin.listTopics()).filter((t) => t.startsWith(`${applicationId}-`) && internal.test(t));
      ends = (await Promise.all(topics.map((t) => admin.topicOffsets(t)))).flat().reduce((sum, o) => sum + Number(o.high), 0);
    } finally {
      admin.disconnect();
    }
    if (topics.length === 0 || ends === seen) return;
    seen = ends;
    await untilCommittedOnce(applicationId, topics, failed, timeoutMs);
  }
}

async function untilCommittedOnce(applicationId: string, inputs: string[], failed: () => void, timeoutMs: number): Promise<void> {
  const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
  try {
    const offsets = await Promise.all(inputs.map((topic) => admin.topicOffsets(topic)));
    const absent = inputs.filter((_, i) => offsets[i]!.length === 0);
    if (absent.length > 0) throw new Error(`No input topic ${absent.join(', ')}: create it and write the input first.`);
    const ends = offsets.flatMap((partitions, i) => partitions.map((o) => ({ topic: inputs[i]!, ...o })));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const committed = await admin.groupOffsets(applicationId);
      const behind = ends
        .filter((end) => end.high > end.low)
        .map((end) => ({ ...end, at: committed.find((c) => c.topic === end.topic && c.partition === end.partition)?.offset }))
        .filter((end) => end.at === undefined || end.at < end.high);
      if (behind.length === 0) return;
      failed();
      if (Date.now() > deadline) {
        const where = behind.map((b) => `${b.topic}[${b.partition}] committed ${b.at ?? 'nothing'} of ${b.high}`).join(', ');
        throw new Error(`${applicationId} did not commit the end of its input within ${timeoutMs} ms: ${where}`);
      }
      await sleep(200);
    }
  } finally {
    admin.disconnect();
  }
}

const children = new Set<ChildProcess>();
process.once('exit', () => children.forEach((child) => child.kill('SIGKILL')));

/** Sends SIGTERM, then SIGKILL if the child has not exited within STOP_TIMEOUT_MS. */
async function stop(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  children.delete(child);
}

/** Kafka Streams' `processing.guarantee` for Sluice's. */
const KAFKA_STREAMS_GUARANTEE: Record<ProcessingGuarantee, string> = { at_least_once: 'at_least_once', exactly_once: 'exactly_once_v2' };

/**
 * Runs scenario `scenario` of Scenarios.java in Kafka Streams until it has committed the end of
 * its inputs, then stops it. `cache`: its record cache (off: `statestore.cache.max.bytes` 0);
 * `guarantee`: its `processing.guarantee` (default at-least-once; exactly-once is
 * `exactly_once_v2`). Each start has a fresh state directory, so its stores are restored from Kafka.
 */
export async function runKafkaStreams(scenario: string, run: Run & { cache?: boolean; guarantee?: ProcessingGuarantee }): Promise<void> {
  await buildKafkaStreams();
  const classpath = `${path.join(TARGET, 'classes')}:${path.join(TARGET, 'lib', '*')}`;
  const args = [scenario, bootstrapServers(), run.applicationId, run.inputs.join(','), run.output, run.cache ? 'on' : 'off', String(COMMIT_INTERVAL_MS)];
  if (run.guarantee) args.push(KAFKA_STREAMS_GUARANTEE[run.guarantee]);
  const child = spawn('java', ['-Xmx256m', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', classpath, 'sluice.compat.SemanticsApp', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let log = '';
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let spawnError: Error | undefined;
  const exited = new Promise((resolve) => {
    child.on('exit', resolve);
    child.on('error', (err) => resolve((spawnError = err)));
  });
  // Asked between polls of the group's offsets: a child that died fails the run with its output.
  const failed = () => {
    if (spawnError) throw new Error(`Kafka Streams (${scenario}) could not be started: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Kafka Streams (${scenario}) exited (${child.exitCode ?? child.signalCode}) before committing its input; its output:\n${log}`);
    }
  };
  try {
    await untilCommitted(run.applicationId, committedInputs(run), failed);
  } finally {
    await stop(child, exited);
  }
}

/**
 * Runs a Sluice application in this process until it has committed the end of its inputs, then
 * closes it. Each start has a fresh state directory, so its stores are restored from Kafka.
 * `guarantee`, when given, overrides the definition's.
 */
export async function runSluice(definition: ApplicationDefinition, run: Run & { guarantee?: ProcessingGuarantee }): Promise<void> {
  const stateDir = tempStateDir();
  let app: Application | undefined;
  try {
    app = await startApplication(definition, { applicationId: run.applicationId, stateDir, commitIntervalMs: COMMIT_INTERVAL_MS, guarantee: run.guarantee });
    let error: unknown;
    app.finished.catch((err) => (error = err ?? new Error('stopped')));
    const failed = () => {
      if (error !== undefined) throw new Error(`Sluice (${definition.applicationId}) stopped before committing its input: ${String(error)}`);
    };
    await untilCommitted(run.applicationId, committedInputs(run), failed);
  } finally {
    await app?.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

/** How values are compared: as bytes, or as parsed JSON (key order and number spelling aside). */
export type ValueFormat = 'bytes' | 'json';

/**
 * How keys are shown: as bytes (text when UTF-8), or decoded from one of Kafka Streams' windowed
 * key formats, so that a windowed key reads as the inner key's bytes and the window:
 * - `{ windowed: 'time', sizeMs }`: key + 8-byte start, shown `"a"@[start,end)` with end = start + size;
 * - `{ windowed: 'sliding', differenceMs }`: the same bytes, shown `"a"@[start,end]` (sliding windows
 *   include their end; end = start + difference);
 * - `{ windowed: 'session' }`: key + 8-byte end + 8-byte start, shown `"a"@[start,end]`.
 * A key too short for its format is shown as bytes.
 */
export type KeyFormat = 'bytes' | { windowed: 'time'; sizeMs: number } | { windowed: 'sliding'; differenceMs: number } | { windowed: 'session' };

function bytes(b: Buffer): string {
  const text = b.toString('utf8');
  return Buffer.from(text, 'utf8').equals(b) ? JSON.stringify(text) : `0x${b.toString('hex')}`;
}

function keyOf(b: Buffer, format: KeyFormat): string {
  if (format === 'bytes') return bytes(b);
  const longs = format.windowed === 'session' ? 2 : 1;
  if (b.length < 8 * longs) return bytes(b);
  const inner = bytes(b.subarray(0, b.length - 8 * longs));
  const last = b.readBigInt64BE(b.length - 8);
  switch (format.windowed) {
    case 'time':
      return `${inner}@[${last},${last + BigInt(format.sizeMs)})`;
    case 'sliding':
      return `${inner}@[${last},${last + BigInt(format.differenceMs)}]`;
    case 'session':
      return `${inner}@[${last},${b.readBigInt64BE(b.length - 16)}]`;
  }
}

/** JSON with object keys in sorted order, so that equal values read the same. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function valueOf(b: Buffer | null, format: ValueFormat): string {
  if (b === null) return 'null';
  if (format === 'bytes') return bytes(b);
  try {
    return canonical(JSON.parse(b.toString('utf8')));
  } catch {
    return `not JSON: ${bytes(b)}`;
  }
}

/** One record per line: partition, position in it, key, value and timestamp. */
function lines(records: ConsumedRecord[], format: ValueFormat, keyFormat: KeyFormat): string[] {
  const position = new Map<number, number>();
  return records.map((r) => {
    const n = position.get(r.partition) ?? 0;
    position.set(r.partition, n + 1);
    return `p${r.partition} #${n} ${r.key === null ? 'null' : keyOf(r.key, keyFormat)} → ${valueOf(r.value, format)} @${r.timestamp}`;
  });
}

/** How `expectSameOutput` compares and shows the records. */
export interface CompareOptions {
  /** Values as parsed JSON (default) or bytes. */
  value?: ValueFormat;
  /** Keys as bytes (default) or decoded from a windowed key format; keys are compared as shown. */
  key?: KeyFormat;
  /** Pass when Kafka Streams wrote nothing. */
  allowEmpty?: boolean;
}

/**
 * Reads both output topics and asserts they hold the same records, per partition in order: key,
 * value and timestamp. On failure the diff shows Sluice's records as actual and Kafka Streams' as
 * expected, one line each. An empty Kafka Streams output fails too (unless `allowEmpty`): a
 * comparison of two empty topics shows nothing. Returns the lines of Kafka Streams' output.
 */
export async function expectSameOutput(sluiceOutput: string, kafkaStreamsOutput: string, options: CompareOptions = {}): Promise<string[]> {
  const format = options.value ?? 'json';
  const keyFormat = options.key ?? 'bytes';
  const [sluice, kafkaStreams] = await Promise.all([readAll(sluiceOutput), readAll(kafkaStreamsOutput)]);
  const expected = lines(kafkaStreams, format, keyFormat);
  if (!options.allowEmpty) expect(expected.length, `Kafka Streams wrote nothing to ${kafkaStreamsOutput}`).to.be.above(0);
  expect(lines(sluice, format, keyFormat), `Sluice's output (${sluiceOutput}) differs from Kafka Streams' (${kafkaStreamsOutput})`).to.deep.equal(expected);
  return expected;
}

/**
 * A scenario run by both sides over the same input topics, each writing to an output topic of
 * its own, under application ids that stay the same from one `run()` to the next.
 *
 * @example
 * ```ts
 * const both = await SideBySide.create({ scenario: 'table-filter', inputs: [input], sluice: (inputs, output) => app(inputs[0], output) });
 * await produceRecords(input, records);
 * await both.run();
 * await both.expectSameOutput();
 * ```
 */
export class SideBySide {
  private constructor(
    private readonly options: SideBySideOptions,
    readonly kafkaStreams: Run,
    readonly sluice: Run,
  ) {}

  /** Creates the two output topics (as many partitions as `outputPartitions`, default 1). */
  static async create(options: SideBySideOptions): Promise<SideBySide> {
    const partitions = options.outputPartitions ?? 1;
    const [ksOutput, sluiceOutput] = await Promise.all([createUniqueTopic(`${options.scenario}-ks`, partitions), createUniqueTopic(`${options.scenario}-sluice`, partitions)]);
    return new SideBySide(
      options,
      { applicationId: uniqueName(`${options.scenario}-ks`), inputs: options.inputs, output: ksOutput, global: options.global },
      { applicationId: uniqueName(`${options.scenario}-sluice`), inputs: options.inputs, output: sluiceOutput, global: options.global },
    );
  }

  /** Runs both side by side until each has committed the end of the inputs, then stops them (both, even when one fails). */
  async run(): Promise<void> {
    const definition = this.options.sluice(this.sluice.inputs, this.sluice.output);
    const { cache, guarantee } = this.options;
    const runs = await Promise.allSettled([runKafkaStreams(this.options.scenario, { ...this.kafkaStreams, cache, guarantee }), runSluice(definition, { ...this.sluice, guarantee })]);
    const failure = runs.find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  expectSameOutput(options: CompareOptions = {}): Promise<string[]> {
    return expectSameOutput(this.sluice.output, this.kafkaStreams.output, options);
  }

  /**
   * Both outputs' lines, for a case where Sluice differs from Kafka Streams on purpose (the test
   * checks each against its own expected lines, and docs/ says why they differ).
   */
  async outputs(options: Omit<CompareOptions, 'allowEmpty'> = {}): Promise<{ sluice: string[]; kafkaStreams: string[] }> {
    const format = options.value ?? 'json';
    const keyFormat = options.key ?? 'bytes';
    const [sluice, kafkaStreams] = await Promise.all([readAll(this.sluice.output), readAll(this.kafkaStreams.output)]);
    return { sluice: lines(sluice, format, keyFormat), kafkaStreams: lines(kafkaStreams, format, keyFormat) };
  }
}

export interface SideBySideOptions {
  /** The scenario's name in Scenarios.java. */
  scenario: string;
  inputs: string[];
  /** Those of `inputs` read as global tables (see {@link Run.global}). */
  global?: string[];
  /** The Sluice application that should behave as the scenario, reading `inputs` and writing `output`. */
  sluice: (inputs: string[], output: string) => ApplicationDefinition;
  /** Kafka Streams' record cache (default off); Sluice's is set per store in its topology. */
  cache?: boolean;
  /**
   * Both sides' processing guarantee (default: each its own, at-least-once): Kafka Streams'
   * `processing.guarantee` (`exactly_once_v2` for exactly-once) and Sluice's `guarantee`, which
   * overrides the definition's.
   */
  guarantee?: ProcessingGuarantee;
  outputPartitions?: number;
}
