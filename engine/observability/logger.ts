import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process-wide JSON logger (pino). Logs go to standard error so that commands can keep
 * standard output for their results. The level comes from `SLUICE_LOG_LEVEL` (default `info`).
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

let root: Logger | undefined;

function rootLogger(): Logger {
  root ??= pino(
    { name: 'sluice', level: process.env.SLUICE_LOG_LEVEL ?? 'info', base: { pid: process.pid } },
    pino.destination({ fd: 2, sync: false }),
  );
  return root;
}
