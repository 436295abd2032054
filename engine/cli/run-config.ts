import fs from 'node:fs';
import { ConfigError } from '../errors.ts';
import type { ClientProperties } from '../kafka/config.ts';
import type { RunOptions } from '../runtime/application.ts';
import type { ProcessingGuarantee } from '../runtime/definition.ts';

/** `sluice run` flags, as commander parses them. */
export interface RunFlags {
  bootstrapServers?: string;
  applicationId?: string;
  guarantee?: string;
  config?: string;
  stateDir?: string;
  httpPort?: string;
  httpHost?: string;
  httpAdvertisedUrl?: string;
  httpAllowedHosts?: string;
  shutdownTimeoutMs?: string;
  numStreamThreads?: string;
  instanceName?: string;
}

/** The `http` object of a config file. */
interface HttpConfig {
  port?: number;
  host?: string;
  token?: string;
  allowedHosts?: string[];
  advertisedUrl?: string;
}

/** The keys a `--config` JSON file may hold. */
interface ConfigFile {
  bootstrapServers?: string;
  applicationId?: string;
  guarantee?: ProcessingGuarantee;
  commitIntervalMs?: number;
  maxTaskIdleMs?: number;
  numStreamThreads?: number;
  numStandbyReplicas?: number;
  acceptableRecoveryLag?: number;
  stateCleanupDelayMs?: number;
  instanceName?: string;
  shutdownTimeoutMs?: number;
  stateDir?: string;
  kafka?: ClientProperties;
  http?: HttpConfig;
}

const CONFIG_KEYS = ['bootstrapServers', 'applicationId', 'guarantee', 'commitIntervalMs', 'maxTaskIdleMs', 'numStreamThreads', 'numStandbyReplicas', 'acceptableRecoveryLag', 'stateCleanupDelayMs', 'instanceName', 'shutdownTimeoutMs', 'stateDir', 'kafka', 'http'];
const HTTP_KEYS = ['port', 'host', 'token', 'allowedHosts', 'advertisedUrl'];
const GUARANTEES = ['at_least_once', 'exactly_once'];

/** Flags win over the environment, the environment over the config file, the file over the topology's defaults. */
export function resolveRunOptions(flags: RunFlags, env: NodeJS.ProcessEnv = process.env): RunOptions {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const guarantee = flags.guarantee ?? file.guarantee;
  if (guarantee !== undefined && !GUARANTEES.includes(guarantee)) {
    throw new ConfigError(`--guarantee must be at_least_once or exactly_once, not "${guarantee}".`);
  }
  return {
    bootstrapServers: flags.bootstrapServers ?? env.KAFKA_BOOTSTRAP_SERVERS ?? file.bootstrapServers,
    applicationId: flags.applicationId ?? file.applicationId,
    guarantee: guarantee as ProcessingGuarantee | undefined,
    commitIntervalMs: file.commitIntervalMs,
    maxTaskIdleMs: file.maxTaskIdleMs,
    instanceName: flags.instanceName ?? env.SLUICE_INSTANCE_NAME ?? file.instanceName,
    numStandbyReplicas: file.numStandbyReplicas,
    acceptableRecoveryLag: file.acceptableRecoveryLag,
    stateCleanupDelayMs: file.stateCleanupDelayMs,
    numStreamThreads: flags.numStreamThreads !== undefined ? wholeNumber('--num-stream-threads', flags.numStreamThreads) : file.numStreamThreads,
    shutdownTimeoutMs: flags.shutdownTimeoutMs !== undefined ? positiveMs('--shutdown-timeout-ms', flags.shutdownTimeoutMs) : file.shutdownTimeoutMs,
    stateDir: flags.stateDir ?? env.SLUICE_STATE_DIR ?? file.stateDir,
    kafka: file.kafka,
    http: resolveHttp(flags, env, file.http ?? {}),
  };
}

/**
 * The query server's settings: flags, then the environment (`SLUICE_HTTP_PORT`, `SLUICE_HTTP_HOST`,
 * `SLUICE_HTTP_TOKEN`, `SLUICE_HTTP_ALLOWED_HOSTS`, `SLUICE_HTTP_ADVERTISED_URL`), then the config
 * file. No port anywhere: no server. The token has no flag, so it never shows in a process list.
 */
function resolveHttp(flags: RunFlags, env: NodeJS.ProcessEnv, file: HttpConfig): RunOptions['http'] {
  const portText = flags.httpPort ?? env.SLUICE_HTTP_PORT;
  const port = portText === undefined ? file.port : /^[0-9]{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (port === undefined) return undefined;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ConfigError(`--http-port must be a port number from 0 to 65535, not "${portText ?? port}".`);
  const hosts = flags.httpAllowedHosts ?? env.SLUICE_HTTP_ALLOWED_HOSTS;
  return {
    port,
    host: flags.httpHost ?? env.SLUICE_HTTP_HOST ?? file.host,
    token: env.SLUICE_HTTP_TOKEN ?? file.token,
    allowedHosts: hosts !== undefined ? hosts.split(',').map((h) => h.trim()).filter(Boolean) : file.allowedHosts,
    advertisedUrl: flags.httpAdvertisedUrl ?? env.SLUICE_HTTP_ADVERTISED_URL ?? file.advertisedUrl,
  };
}

function readConfigFile(file: string): ConfigFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`Config file ${file} could not be read as JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`Config file ${file} must hold a JSON object.`);
  const unknown = Object.keys(parsed).filter((k) => !CONFIG_KEYS.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(`Config file ${file} has unknown key(s) ${unknown.join(', ')}; allowed: ${CONFIG_KEYS.join(', ')}.`);
  }
  const config = parsed as ConfigFile;
  for (const key of ['commitIntervalMs', 'shutdownTimeoutMs'] as const) {
    const value = config[key];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new ConfigError(`Config file ${file}: ${key} must be a positive integer.`);
  }
  if (config.http !== undefined) {
    if (!config.http || typeof config.http !== 'object' || Array.isArray(config.http)) throw new ConfigError(`Config file ${file}: http must be an object.`);
    const extra = Object.keys(config.http).filter((k) => !HTTP_KEYS.includes(k));
    if (extra.length > 0) throw new ConfigError(`Config file ${file}: http has unknown key(s) ${extra.join(', ')}; allowed: ${HTTP_KEYS.join(', ')}.`);
  }
  if (config.stateDir !== undefined && (typeof config.stateDir !== 'string' || config.stateDir === '')) {
    throw new ConfigError(`Config file ${file}: stateDir must be a directory path.`);
  }
  return config;
}

/** A flag's value as a positive whole number of milliseconds. */
function positiveMs(flag: string, text: string): number {
  const value = /^[0-9]{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value > 0)) throw new ConfigError(`${flag} must be a positive whole number of milliseconds, not "${text}".`);
  return value;
}

/** A flag's value as a whole number (its range is checked with the other settings). */
function wholeNumber(flag: string, text: string): number {
  if (!/^[0-9]{1,4}$/.test(text)) throw new ConfigError(`${flag} must be a whole number, not "${text.slice(0, 40)}".`);
  return Number(text);
}
