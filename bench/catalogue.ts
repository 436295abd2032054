/**
 * The workloads `npm run bench -- <workload>` knows, each of one kind: `stream` (systems read an
 * input topic, or two for a join, and write an output topic; closed loop, or open loop with
 * `--rate`), `restore`,
 * `lookups` (interactive queries) and `mutations` (the mutation aggregator end to end).
 */
import type { BenchContext, Params, Sized } from './context.ts';
import type { SystemProcess } from './system-process.ts';
import { enrichBound, enrichEnv, EnrichedOutputChecker, enrichParams, startEnrichService } from './workloads/async-enrich.ts';
import { CountChecker, keyIndex, keyName, statefulValue, trueCounts } from './workloads/stateful.ts';
import {
  customerKey,
  customerOf,
  customerTimestamp,
  customerValue,
  EnrichedOrderChecker,
  joinEnv,
  JoinedPairChecker,
  orderTimestamp,
  orderValue,
  paymentCustomer,
  paymentValue,
  sideTimestamp,
  streamJoinParams,
  tableJoinParams,
} from './workloads/joins.ts';
import { expectedOutputs, statelessValue } from './workloads/stateless.ts';
import { windowEnv, windowedTimestamp, WindowedCountChecker, windowParams, type WindowEmit } from './workloads/windowed.ts';

/** A workload whose systems read an input topic and write an output topic. */
export interface StreamWorkload extends Sized {
  kind: 'stream';
  name: string;
  systems: string[];
  key: (i: number, p: Params) => string;
  value: (i: number, p: Params) => Buffer;
  /**
   * The record's timestamp (event time) when the workload sets it; such a workload runs closed
   * loop only, as the open loop's feed stamps each record with its send time.
   */
  timestamp?: (i: number, p: Params) => number;
  /**
   * A second input, for the joins: a table's topic or the other stream. Loaded with the first
   * (closed loop only), with as many partitions; systems get its topic in `BENCH_INPUT2`. Its
   * records count in the rate, and a run that waits for its commits waits for both inputs'.
   */
  second?: SecondInput;
  /** The workload the systems run (`BENCH_WORKLOAD`), when it is another's under a name of its own. Default its name. */
  runs?: string;
  /** Settings the systems read from their environment besides the input, output, group and commit interval. */
  env?: (p: Params) => Record<string, string>;
  /**
   * When a run is complete: its output holds this many records, or its group committed the
   * input's end. The output's records are counted by its end offsets, or, with `read`, by a
   * read_committed reader of it as they arrive (an exactly-once output's offsets also hold its
   * transaction markers, and its uncommitted records do not count).
   */
  done: { outputs: (p: Params) => number; read?: boolean } | 'committed';
  /**
   * Systems too slow for the whole input, timed over its first n records instead (done when
   * their output holds n records; with one partition those are the first n offsets, in order).
   */
  prefix?: Record<string, (p: Params) => number>;
  /** The peers that implement it (`true`: all of kafka-streams, quix-streams and the Node peers); `--systems all` adds them. */
  peers?: boolean | readonly string[];
  /**
   * Checks a finished run's output (outside the timing); throws if it is wrong. `run.records`:
   * the input records the system was to process (a prefix, or all); `run.exactlyOnce`: whether
   * it ran exactly-once.
   */
  checker?: (p: Params, run: { records: number; exactlyOnce: boolean }) => { add(key: Buffer | null, value: Buffer | null): void; result(): { ok: boolean } & Record<string, unknown> };
  /** A service the systems call, started before the rounds and stopped after them (async-enrich). */
  service?: (ctx: BenchContext, p: Params) => Promise<BenchService>;
  /** The most any system can do, from the params: each result gets its ratio to it (`vsBound`). */
  bound?: (p: Params) => { recordsPerSec: number; what: string };
}

/** A service a workload's systems call, running for the whole workload run. */
export interface BenchService {
  /** What the systems get in their environment to reach it. */
  env: Record<string, string>;
  /** Starts measuring one system's run, at ready; the function it returns gives what to add to the run's result, once done. */
  measure(system: SystemProcess): Promise<() => Promise<Record<string, unknown>>>;
  stop(): Promise<void>;
}

/** A stream workload's second input: its records as the workload's own key, value and timestamp functions give them. */
export interface SecondInput {
  /** What it holds (`customers`, `payments`): its topic's name ends with it, and the report names it. */
  name: string;
  records: (p: Params) => number;
  key: (i: number, p: Params) => string;
  value: (i: number, p: Params) => Buffer;
  timestamp?: (i: number, p: Params) => number;
}

/** The records of a stream workload's inputs together: what its rate counts. */
export function inputRecords(workload: StreamWorkload, p: Params): number {
  return p.records + (workload.second?.records(p) ?? 0);
}

/** The restoration workload: a pre-filled changelog, read plainly vs restored into a store. */
export interface RestoreWorkload extends Sized {
  kind: 'restore';
  name: string;
  systems: string[];
}

/** Interactive queries: HTTP point lookups of a running application's count store while it keeps processing. */
export interface LookupWorkload extends Sized {
  kind: 'lookups';
  name: string;
  systems: string[];
  rounds: (quick: boolean) => number;
  load: (quick: boolean) => LookupLoad;
}

export interface LookupLoad {
  /** Load-phase records per key; `records` is `keys` times this unless --records is given. */
  recordsPerKey: number;
  /** Records per second written to the input while the lookups run. */
  feedPerSec: number;
  connections: number;
  seconds: number;
  /** An untimed run against each server before the first round. */
  warmupSeconds: number;
  /** Keys whose answers are checked against their true counts. */
  sample: number;
}

/** Failover: three instances, one killed with -9, the time until its keys answer from the survivors (kinds/failover.ts). */
export interface FailoverWorkload extends Sized {
  kind: 'failover';
  name: string;
  /** The `numStandbyReplicas` settings compared, one after another. */
  standbys: number[];
  sessionTimeoutMs: number;
  /** The session timeout of the restart phases: longer than a restart, so a named instance restarts within it. */
  restartSessionTimeoutMs: number;
  /** How many of the killed instance's keys are asked until they answer. */
  sample: (quick: boolean) => number;
}

/** The mutation aggregator end to end, with PostgreSQL (kinds/mutations.ts sizes it itself). */
export interface MutationsWorkload {
  kind: 'mutations';
  name: 'mutations';
}

export type Workload = StreamWorkload | RestoreWorkload | LookupWorkload | MutationsWorkload | FailoverWorkload;

const COMMIT_INTERVAL_MS = 1000;

/** 100-byte records over hashed keys, 1 s commits: `full` [records, keys], or `small` ones with --quick. */
function hashedSizes(quick: boolean, partitions: number, full: [records: number, keys: number], small: [records: number, keys: number]): Params {
  const [records, keys] = quick ? small : full;
  return { records, valueSize: 100, partitions, keys, keyOrder: 'hashed', commitIntervalMs: COMMIT_INTERVAL_MS };
}

/**
 * Records keyed `user-<n>` (n by the params' key order) with `{"id":i,"pad":"x…"}` values: the
 * counts', the windowed count's and async-enrich's input.
 */
const userRecords: Pick<StreamWorkload, 'key' | 'value'> = {
  key: (i, p) => keyName(keyIndex(i, p.keys, p.keyOrder!)),
  value: (i, p) => statefulValue(i, p.valueSize),
};

/** The stateful count over 100,000 keys (1M records), checked against the true counts. */
function countWorkload(name: string, systems: string[]): StreamWorkload {
  return {
    kind: 'stream',
    name,
    systems,
    params: (quick) => hashedSizes(quick, 6, [1_000_000, 100_000], [50_000, 100_000]),
    ...userRecords,
    done: 'committed',
    checker: (p) => new CountChecker(trueCounts(p.records, p.keys, p.keyOrder!)),
  };
}

/**
 * The windowed count: 1,000,000 records over 10,000 keys with event times over an hour, counted
 * in one-minute tumbling windows with 10 s grace, every update (one per window per commit) or
 * final results only; each output checked against a replay of the input (workloads/windowed.ts).
 */
function windowedCountWorkload(name: string, emit: WindowEmit): StreamWorkload {
  return {
    kind: 'stream',
    name,
    systems: ['raw-client', 'sluice'],
    peers: ['kafka-streams'],
    params: (quick) => ({ ...hashedSizes(quick, 6, [1_000_000, 10_000], [50_000, 1_000]), windows: windowParams(emit) }),
    ...userRecords,
    timestamp: windowedTimestamp,
    env: (p) => windowEnv(p.windows!),
    done: 'committed',
    checker: (p) => new WindowedCountChecker(p),
  };
}

/**
 * The stream-table join: 1,000,000 orders (the main input) over 100,000 customers (the second,
 * read as a table), every customer stamped before every order; each order comes out once with
 * its customer's name and tier (workloads/joins.ts). Done when both inputs are committed.
 */
const streamTableJoin: StreamWorkload = {
  kind: 'stream',
  name: 'join-stream-table',
  systems: ['sluice'],
  peers: ['kafka-streams'],
  params: (quick) => ({ ...hashedSizes(quick, 6, [1_000_000, 100_000], [50_000, 5_000]), join: tableJoinParams() }),
  key: (i, p) => customerKey(customerOf(i, p)),
  value: orderValue,
  timestamp: orderTimestamp,
  second: { name: 'customers', records: (p) => p.keys, key: (n) => customerKey(n), value: (n) => customerValue(n), timestamp: customerTimestamp },
  done: 'committed',
  checker: (p) => new EnrichedOrderChecker(p),
};

/**
 * The stream-stream join: 500,000 orders and 500,000 payments over 100,000 customers, joined
 * within 10 s either way (no grace); the output must be exactly the pairs a replay of the input
 * gives (workloads/joins.ts). Done when both inputs are committed.
 */
const streamStreamJoin: StreamWorkload = {
  kind: 'stream',
  name: 'join-stream-stream',
  systems: ['sluice'],
  peers: ['kafka-streams'],
  params: (quick) => ({ ...hashedSizes(quick, 6, [500_000, 100_000], [25_000, 5_000]), join: streamJoinParams() }),
  key: (i, p) => customerKey(customerOf(i, p)),
  value: orderValue,
  timestamp: sideTimestamp,
  second: { name: 'payments', records: (p) => p.records, key: (j, p) => customerKey(paymentCustomer(j, p)), value: paymentValue, timestamp: sideTimestamp },
  env: (p) => joinEnv(p.join!),
  done: 'committed',
  checker: (p) => new JoinedPairChecker(p),
};

/**
 * Records enriched by a call each to a local HTTP service answering after 10–30 ms
 * (workloads/async-enrich.ts): 200,000 records over 10,000 keys, one partition, so that
 * Sluice's `concurrency` (per task) and the raw client's pool both hold 256 calls in flight at
 * most; bound 256 / 20 ms = 12,800 records/s. The sequential loop (50 records/s at best) is timed
 * over the first 1% of the input (2,000 records, about 40 s). Done when the output holds one
 * record per input.
 */
const asyncEnrich: StreamWorkload = {
  kind: 'stream',
  name: 'async-enrich',
  systems: ['sluice', 'sluice-eos', 'raw-client-async', 'raw-client-sequential'],
  params: (quick) => ({ ...hashedSizes(quick, 1, [200_000, 10_000], [20_000, 1_000]), enrich: enrichParams() }),
  ...userRecords,
  env: enrichEnv,
  done: { outputs: (p) => p.records, read: true },
  prefix: { 'raw-client-sequential': (p) => Math.ceil(p.records / 100) },
  checker: (p, run) => new EnrichedOutputChecker(p, run),
  service: startEnrichService,
  bound: enrichBound,
};

export const WORKLOADS: Record<string, Workload> = {
  stateless: {
    kind: 'stream',
    name: 'stateless',
    systems: ['raw-client', 'sluice'],
    peers: true,
    params: (quick) => ({ records: quick ? 50_000 : 1_000_000, valueSize: 256, partitions: 6, keys: 10_000, commitIntervalMs: COMMIT_INTERVAL_MS }),
    key: (i, p) => `user-${i % p.keys}`,
    value: (i, p) => statelessValue(i, p.keys, p.valueSize),
    done: { outputs: (p) => expectedOutputs(p.records) },
  },
  // The count over 100,000 keys: beside the raw client; at-least-once (1 s commits) against
  // exactly-once (100 ms transactions); store values in JSON against Avro.
  'stateful-count': { ...countWorkload('stateful-count', ['raw-client', 'sluice']), peers: true },
  'stateful-count-eos': countWorkload('stateful-count-eos', ['sluice', 'sluice-eos']),
  'store-serde': countWorkload('store-serde', ['sluice', 'sluice-avro-store']),
  // The windowed count, every update and final results only (suppressed until each window closes).
  'windowed-count': windowedCountWorkload('windowed-count', 'updates'),
  'windowed-count-final': windowedCountWorkload('windowed-count-final', 'final'),
  // The joins, beside Kafka Streams: orders enriched from a customers table, and orders joined
  // with payments within 10 s.
  'join-stream-table': streamTableJoin,
  'join-stream-stream': streamStreamJoin,
  // Async operators: a call to an HTTP service per record, beside hand-written loops on the client.
  'async-enrich': asyncEnrich,
  'stateful-rss': {
    kind: 'stream',
    name: 'stateful-rss',
    systems: ['sluice'],
    params: (quick) => {
      const records = quick ? 200_000 : 5_000_000;
      return { records, valueSize: 16, partitions: 6, keys: records, keyOrder: 'sequential', commitIntervalMs: COMMIT_INTERVAL_MS };
    },
    rounds: () => 1,
    ...userRecords,
    done: 'committed',
    checker: (p) => new CountChecker(trueCounts(p.records, p.keys, p.keyOrder!)),
  },
  restore: {
    kind: 'restore',
    name: 'restore',
    systems: ['raw-client', 'sluice'],
    params: (quick) => {
      const records = quick ? 50_000 : 1_000_000;
      return { records, valueSize: 0, partitions: 6, keys: records, commitIntervalMs: COMMIT_INTERVAL_MS };
    },
  },
  'iq-lookups': {
    kind: 'lookups',
    name: 'iq-lookups',
    systems: ['sluice-iq', 'node-http'],
    params: (quick) => {
      const keys = quick ? 1_000 : 10_000;
      return { records: keys * 10, valueSize: 100, partitions: 6, keys, keyOrder: 'sequential', commitIntervalMs: COMMIT_INTERVAL_MS };
    },
    rounds: (quick) => (quick ? 1 : 2),
    load: (quick) => ({ recordsPerKey: 10, feedPerSec: 5_000, connections: 10, seconds: quick ? 3 : 10, warmupSeconds: quick ? 1 : 3, sample: quick ? 200 : 1_000 }),
  },
  mutations: { kind: 'mutations', name: 'mutations' },
  // 1,000,000 keys of count state over 12 partitions on 3 instances, one killed with -9: with
  // no standby and with one. The session timeout is what the group takes to notice the kill.
  failover: {
    kind: 'failover',
    name: 'failover',
    params: (quick) => ({ records: quick ? 50_000 : 1_000_000, keys: quick ? 50_000 : 1_000_000, valueSize: 0, partitions: 12, commitIntervalMs: COMMIT_INTERVAL_MS }),
    standbys: [0, 1],
    sessionTimeoutMs: 3_000,
    restartSessionTimeoutMs: 10_000,
    sample: (quick) => (quick ? 200 : 2_000),
  },
};

/**
 * A stream workload with every system in one and in two stream threads (Sluice's
 * `numStreamThreads`, Kafka Streams' `num.stream.threads`), beside each other in one run; each
 * two-thread system's `vsKafkaStreams` is to Kafka Streams with two threads.
 */
function withThreads(base: Workload, name: string): StreamWorkload {
  if (base.kind !== 'stream') throw new Error(`${base.name} is not a stream workload`);
  return { ...base, name, runs: base.name, systems: ['sluice', 'sluice-2-threads'], peers: ['kafka-streams', 'kafka-streams-2-threads'] };
}

WORKLOADS['stateless-threads'] = withThreads(WORKLOADS.stateless!, 'stateless-threads');
WORKLOADS['stateful-count-threads'] = withThreads(WORKLOADS['stateful-count']!, 'stateful-count-threads');
WORKLOADS['join-stream-table-threads'] = withThreads(WORKLOADS['join-stream-table']!, 'join-stream-table-threads');
WORKLOADS['join-stream-stream-threads'] = withThreads(WORKLOADS['join-stream-stream']!, 'join-stream-stream-threads');
