import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { SluiceError, TopologyError } from '../errors.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { configureLogging, parseLogFormat } from '../observability/logger.ts';
import { consumeCommand } from './consume-command.ts';
import { kafkaCommand } from './kafka-command.ts';
import { postgresCommand } from './postgres-command.ts';
import { produceCommand } from './produce-command.ts';
import { registryCommand } from './registry-command.ts';
import { schemasCommand } from './schemas-command.ts';
import { topicsCommand } from './topics-command.ts';
import { describeCommand, resetCommand, runCommand } from './topology-commands.ts';

const { version } = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };

/**
 * Runs the `sluice` command with these arguments (`process.argv`); sets the exit code on an error.
 * `loaded`, if given, is called as the command's action begins: the handling of signals while the
 * command loaded (bin/sluice.js) ends there, and the action's own begins.
 */
export async function runCli(argv: string[], loaded?: () => void): Promise<void> {
  const program = new Command('sluice')
    .description('Sluice: stream processing on Kafka for Node.js')
    .version(version, '-V, --version', 'print the version of sluice')
    .showHelpAfterError()
    .addCommand(runCommand())
    .addCommand(describeCommand())
    .addCommand(resetCommand())
    .addCommand(topicsCommand())
    .addCommand(produceCommand())
    .addCommand(consumeCommand())
    .addCommand(schemasCommand())
    .addCommand(registryCommand())
    .addCommand(postgresCommand())
    .addCommand(kafkaCommand());
  if (loaded) program.hook('preAction', loaded);

  try {
    // Readable log lines for a person at a terminal, JSON lines for everything else; `sluice run
    // --log-format` and SLUICE_LOG_FORMAT choose otherwise.
    const variable = process.env.SLUICE_LOG_FORMAT;
    configureLogging({ format: variable !== undefined ? parseLogFormat(variable, 'SLUICE_LOG_FORMAT') : process.stderr.isTTY ? 'pretty' : 'json' });
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof SluiceError) {
      const file = err instanceof TopologyError && err.file ? `${err.file}: ` : '';
      process.stderr.write(`sluice: ${file}${err.message} [${err.code}]\n`);
    } else {
      process.stderr.write(`sluice: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exitCode = 1;
  }
}
