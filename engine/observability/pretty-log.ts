import pinoPretty from 'pino-pretty';

/** Keys every line has, shown by pino-pretty itself or left out as noise. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'component', 'err', 'error']);

/**
 * A log destination that writes readable lines instead of JSON:
 * `12:00:01.123 INFO: (queries) serving interactive queries endpoint=http://127.0.0.1:8080 application=pricing`.
 * The fields follow the message as `key=value`; errors keep their stack on the lines below.
 *
 * @example
 * ```ts
 * const log = pino({}, prettyStream({ fd: 2, colors: process.stderr.isTTY === true }));
 * ```
 */
export function prettyStream(options: { fd: number; colors: boolean }): pinoPretty.PrettyStream {
  return pinoPretty({
    destination: options.fd,
    sync: true,
    colorize: options.colors,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    hideObject: true,
    messageFormat: (log, messageKey) => formatMessage(log, messageKey),
  });
}

/** The message of one line: its component in brackets, the message, then the other fields. */
export function formatMessage(log: Record<string, unknown>, messageKey = 'msg'): string {
  const component = typeof log.component === 'string' ? `(${log.component}) ` : '';
  const fields = Object.entries(log)
    .filter(([key, value]) => !HIDDEN.has(key) && key !== messageKey && value !== undefined)
    .map(([key, value]) => ` ${key}=${formatValue(value)}`)
    .join('');
  return `${component}${String(log[messageKey] ?? '')}${fields}${formatError(log.err ?? log.error)}`;
}

/** An error field: its message inline; for a serialized Error, its stack on the lines below. */
function formatError(err: unknown): string {
  if (err === undefined || err === null) return '';
  if (typeof err !== 'object') return ` err=${formatValue(err)}`;
  const { message, stack } = err as { message?: unknown; stack?: unknown };
  const inline = ` err=${formatValue(typeof message === 'string' ? message : err)}`;
  return typeof stack === 'string' && stack !== '' ? `${inline}\n    ${stack.split('\n').join('\n    ')}` : inline;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return value === '' || /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.map((v) => String(v)).join(',');
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}
