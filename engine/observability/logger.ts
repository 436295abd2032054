import { pino, type Logger } from 'pino';
import { ConfigError } from '../errors.ts';
import { prettyStream } from './pretty-log.ts';

export type { Logger };

/** How log lines look: pino's JSON lines, or readable lines for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

const FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/**
 * A logger under the process-wide root logger (pino). Logs go to standard error so that commands
 * can keep standard output for their results. The level comes from `SLUICE_LOG_LEVEL` (default
 * `info`), the format from {@link configureLogging}, else `SLUICE_LOG_FORMAT` (default `json`).
 * A binding a child repeats (`component`, say) replaces its parent's: each key appears once in a
 * line, with the innermost value.
 *
 * @example
 * ```ts
 * const log = createLogger({ component: 'producer' });
 * log.info({ topic }, 'connected');
 * ```
 */
export function createLogger(bindings: Record<string, unknown> = {}, level?: string): Logger {
  return rootLogger().child(bindings, level ? { level } : undefined);
}

/**
 * Chooses the format of every logger made from now on; call it before the first one is made
 * (the CLI does, from `--log-format`).
 *
 * @example
 * ```ts
 * configureLogging({ format: process.stderr.isTTY ? 'pretty' : 'json' });
 * ```
 */
export function configureLogging(options: { format: LogFormat }): void {
  format = parseLogFormat(options.format);
  root = undefined;
}

/** Checks a log format named by a flag or a variable (`what`, in the {@link ConfigError} it throws). */
export function parseLogFormat(value: string, what = '--log-format'): LogFormat {
  if (!(FORMATS as readonly string[]).includes(value)) throw new ConfigError(`${what} must be json or pretty, not "${value}".`);
  return value as LogFormat;
}

/** The format loggers are made with now. */
export function logFormat(): LogFormat {
  format ??= parseLogFormat(process.env.SLUICE_LOG_FORMAT ?? 'json', 'SLUICE_LOG_FORMAT');
  return format;
}

let format: LogFormat | undefined;
let root: Logger | undefined;

function rootLogger(): Logger {
  if (root) return root;
  const options = { name: 'sluice', level: process.env.SLUICE_LOG_LEVEL ?? 'info', base: { pid: process.pid } };
  root = withUniqueBindings(
    logFormat() === 'pretty'
      ? pino(options, prettyStream({ fd: 2, colors: process.stderr.isTTY === true }))
      : pino(options, pino.destination({ fd: 2, sync: false })),
  );
  return root;
}

/** pino's child method, as this module calls it. */
type ChildFunction = (this: Logger, bindings: Record<string, unknown>, options?: { level?: string }) => Logger;

/**
 * pino writes a child's bindings after its parent's, so a key bound twice (a `queries` logger
 * handing a child `{ component: 'directory-consumer' }` to a client) would appear twice in every
 * line. Children of the returned logger (at any depth) whose bindings repeat a key are made from
 * the root instead, with the parent's bindings, the new ones and the parent's level.
 */
function withUniqueBindings(logger: Logger): Logger {
  const plainChild = logger.child as unknown as ChildFunction;
  const rootKeys = Object.keys(logger.bindings());
  function child(this: Logger, bindings: Record<string, unknown>, options?: { level?: string }): Logger {
    const inherited = this.bindings();
    if (!Object.keys(bindings).some((key) => key in inherited)) return plainChild.call(this, bindings, options);
    const merged: Record<string, unknown> = { ...inherited, ...bindings };
    for (const key of rootKeys) if (!(key in bindings)) delete merged[key];
    return plainChild.call(logger, merged, { level: this.level, ...options });
  }
  // pino makes each child with Object.create(parent), so every descendant inherits this method.
  (logger as { child: unknown }).child = child;
  return logger;
}
