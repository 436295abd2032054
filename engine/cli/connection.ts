import { type Command, Option } from 'commander';
import { describeCause } from '../errors.ts';
import type { ConnectionOptions } from '../kafka/config.ts';
import { LocalBroker } from '../local/kafka/local-broker.ts';
import { collect, parseAssignments } from './flags.ts';

/** The connection flags of the commands that talk to Kafka. */
export interface ConnectionFlags {
  bootstrapServers?: string;
  property?: string[];
}

/** Adds `--bootstrap-servers` and `-X/--property key=value` (repeatable) to a command. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--bootstrap-servers <servers>', 'Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS, else the local broker)')
    .addOption(
      new Option('-X, --property <key=value>', 'a librdkafka property for the client, e.g. security.protocol=SASL_SSL (repeatable)')
        .argParser(collect),
    );
}

/**
 * Where to connect: `--bootstrap-servers`, else `KAFKA_BOOTSTRAP_SERVERS`, else the local broker
 * when it runs (said on standard error); plus the `-X` properties.
 */
export async function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<ConnectionOptions> {
  const properties = parseAssignments(flags.property ?? [], '-X/--property');
  return {
    bootstrapServers: flags.bootstrapServers ?? env.KAFKA_BOOTSTRAP_SERVERS ?? (await localBrokerAddress()),
    ...(Object.keys(properties).length > 0 ? { properties } : {}),
  };
}

/** The local broker's address when it runs, so commands work right after `sluice kafka start`. */
export async function localBrokerAddress(): Promise<string | undefined> {
  try {
    const status = await new LocalBroker().status();
    if (status.running) {
      process.stderr.write(`Using the local broker at ${status.address} (set KAFKA_BOOTSTRAP_SERVERS to use another).\n`);
      return status.address;
    }
  } catch (err) {
    process.stderr.write(`Could not check the local broker: ${describeCause(err)}\n`);
  }
  return undefined;
}
