import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { checkServerOptions } from '../iq/server.ts';
import type { HttpOptions } from '../iq/service.ts';
import type { ClientProperties } from '../kafka/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { ApplicationDefinition, ApplicationSettings } from './definition.ts';
import type { LoopOptions } from './processing-loop.ts';
import type { RestoreProgress } from './task/restore.ts';
import { checkStreamThreads } from './threads/thread-role.ts';

/** How to run an application: its definition's settings, overridden by these. */
export interface RunOptions extends Partial<ApplicationSettings> {
  bootstrapServers?: string;
  /** Where task state lives: `<stateDir>/<application.id>/<task>/<store>`. Default `SLUICE_STATE_DIR`, else `<tmp>/sluice-state`. */
  stateDir?: string;
  /** Called with restoration progress (about once a second while stores restore). */
  onRestoreProgress?: (progress: RestoreProgress) => void;
  logger?: Logger;
  /** Loop tuning; the defaults suit most applications. */
  loop?: Partial<LoopOptions>;
  /** Serve interactive queries, metadata, health and metrics over HTTP (off unless given). */
  http?: HttpOptions;
  /**
   * V8's heap growing factor, set for the whole process when the application starts, as
   * `--heap-growing-percent`: the old generation may grow to (100 + this)% of what survived the
   * last full collection. Default 50 (`DEFAULT_HEAP_GROWING_PERCENT` in runtime/heap.ts says
   * why), unless node was started with its own `--heap-growing-percent`; `false` leaves V8's own
   * factor (up to 4×, which lets the garbage of a busy stream processor take hundreds of MB).
   */
  heapGrowingPercent?: number | false;
  /**
   * How long `close()` may take: past it, what is not committed is left (it is processed again
   * at the next start), `close()` returns and `finished` rejects, whatever the brokers or an
   * external system do. Default 30,000 ms.
   */
  shutdownTimeoutMs?: number;
  /**
   * A name for this instance that stays the same across its restarts and no other instance of
   * the application uses (a StatefulSet's pod name, a host name): it makes the instance a static
   * member of the group (`group.instance.id`), so a restart within the session timeout takes
   * its partitions back without a rebalance, and gives it a stable transactional id. Letters,
   * digits, `.`, `_` and `-`. Default none (a dynamic member). See docs/scaling.md.
   */
  instanceName?: string;
  /**
   * Awaited after the clients connect and before the consumer joins the group: the stream
   * threads of an instance join together, so that their first assignment already shares the
   * partitions between them (see runtime/threads/).
   */
  beforeJoin?: () => Promise<void>;
}

const DEFAULT_LOOP: LoopOptions = { maxBatch: 5_000, pollTimeoutMs: 100, commitIntervalMs: 1_000, maxInFlight: 100_000, maxTaskIdleMs: 0, undeliveredWaitMs: 30_000, unknownWaitMs: 1_000 };
/** How long `close()` may take by default: about what a container orchestrator waits before it kills. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
/** Kafka Streams' default under exactly-once: short transactions keep end-to-end latency low. */
const EXACTLY_ONCE_COMMIT_INTERVAL_MS = 100;

/**
 * Tasks rely on the range assignor (see the consumer): another could run a task on two
 * instances at once, on two copies of its state.
 */
function checkGroupProperties(kafka: ClientProperties | undefined): void {
  const strategy = kafka?.['partition.assignment.strategy'];
  if (strategy !== undefined && strategy !== 'range') {
    throw new ConfigError(
      `kafka['partition.assignment.strategy'] is "${strategy}", but an application's partitions are assigned with "range" only: ` +
        'it keeps the co-partitioned source partitions of a task on one instance. Remove the property.',
    );
  }
}

/** What an application runs with, once its definition and run options are put together and checked. */
export interface ResolvedOptions {
  settings: ApplicationSettings & { bootstrapServers?: string };
  loop: LoopOptions;
  stateDir: string;
  shutdownTimeoutMs: number;
  instanceName: string | undefined;
}

/** The definition's settings overridden by the run options, the loop's tuning and the bounds, checked. */
export function resolveRunOptions(definition: ApplicationDefinition, options: RunOptions): ResolvedOptions {
  const { logger: _logger, loop, stateDir, onRestoreProgress: _progress, http, heapGrowingPercent: _heap, shutdownTimeoutMs, beforeJoin: _join, instanceName, ...overrides } = options;
  const shutdown = shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  if (!(Number.isFinite(shutdown) && shutdown > 0)) throw new ConfigError(`shutdownTimeoutMs must be a positive number of milliseconds, not ${shutdownTimeoutMs}.`);
  if (http) checkServerOptions(http);
  const settings = { ...definition, ...withoutUndefined(overrides) };
  checkGroupProperties(settings.kafka);
  const idle = settings.maxTaskIdleMs;
  if (idle !== undefined && !(Number.isSafeInteger(idle) && idle >= -1)) throw new ConfigError(`maxTaskIdleMs must be -1 (never wait) or a whole number of milliseconds from 0, not ${idle}.`);
  checkStreamThreads(settings.numStreamThreads);
  const cleanup = settings.stateCleanupDelayMs;
  if (cleanup !== undefined && !(Number.isSafeInteger(cleanup) && cleanup > 0)) throw new ConfigError(`stateCleanupDelayMs must be a positive whole number of milliseconds, not ${cleanup}.`);
  const lag = settings.acceptableRecoveryLag;
  if (lag !== undefined && !(Number.isSafeInteger(lag) && lag >= 0)) throw new ConfigError(`acceptableRecoveryLag must be a whole number of records from 0, not ${lag}.`);
  const standbys = settings.numStandbyReplicas;
  if (standbys !== undefined && !(Number.isSafeInteger(standbys) && standbys >= 0 && standbys <= 10)) throw new ConfigError(`numStandbyReplicas must be a whole number from 0 to 10, not ${standbys}.`);
  if (instanceName !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(instanceName)) throw new ConfigError(`instanceName must be 1 to 100 letters, digits, ".", "_" or "-", not ${JSON.stringify(String(instanceName).slice(0, 120))}.`);
  return {
    settings,
    loop: {
      ...DEFAULT_LOOP,
      ...(settings.guarantee === 'exactly_once' ? { commitIntervalMs: EXACTLY_ONCE_COMMIT_INTERVAL_MS } : {}),
      ...withoutUndefined({ commitIntervalMs: settings.commitIntervalMs, maxTaskIdleMs: settings.maxTaskIdleMs }),
      ...withoutUndefined(loop ?? {}),
    },
    stateDir: path.resolve(stateDir ?? process.env.SLUICE_STATE_DIR ?? path.join(os.tmpdir(), 'sluice-state')),
    shutdownTimeoutMs: shutdown,
    instanceName,
  };
}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
