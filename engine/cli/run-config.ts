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
}

/** The keys a `--config` JSON file may hold. */
interface ConfigFile {
  bootstrapServers?: string;
  applicationId?: string;
  guarantee?: ProcessingGuarantee;
  commitIntervalMs?: number;
  stateDir?: string;
  kafka?: ClientProperties;
}

const CONFIG_KEYS = ['bootstrapServers', 'applicationId', 'guarantee', 'commitIntervalMs', 'stateDir', 'kafka'];
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
    stateDir: flags.stateDir ?? env.SLUICE_STATE_DIR ?? file.stateDir,
    kafka: file.kafka,
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
  if (config.commitIntervalMs !== undefined && !(Number.isInteger(config.commitIntervalMs) && config.commitIntervalMs > 0)) {
    throw new ConfigError(`Config file ${file}: commitIntervalMs must be a positive integer.`);
  }
  if (config.stateDir !== undefined && (typeof config.stateDir !== 'string' || config.stateDir === '')) {
    throw new ConfigError(`Config file ${file}: stateDir must be a directory path.`);
  }
  return config;
}
