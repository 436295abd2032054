import { Command } from 'commander';
import { LocalSchemaRegistry } from '../serde/avro/local-registry.ts';

/** `sluice registry start|stop|status`: the local schema registry for development and tests. */
export function registryCommand(): Command {
  const command = new Command('registry').description('a local Confluent-compatible schema registry (schemas in memory) for development and tests');
  const registry = () => new LocalSchemaRegistry({ progress: (line) => process.stderr.write(line + '\n') });
  command
    .command('start')
    .description('build it once from crates.io, start it unless it runs; print its URL last (use it as SCHEMA_REGISTRY_URL)')
    .action(async () => {
      process.stdout.write(`${(await registry().start()).url}\n`);
    });
  command
    .command('stop')
    .description('stop it (its schemas are forgotten)')
    .action(async () => {
      process.stdout.write((await registry().stop()) ? 'stopped\n' : 'not running\n');
    });
  command
    .command('status')
    .description('say whether it runs and where (exit status 3 when stopped)')
    .action(async () => {
      const status = await registry().status();
      process.stdout.write(status.running ? `running at ${status.url} (pid ${status.pid}, rivven-schema ${status.version})\n` : 'stopped\n');
      if (!status.running) process.exitCode = 3;
    });
  return command;
}
