import { Command, Option } from 'commander';
import { LocalPostgres } from '../sinks/postgres/local-postgres.ts';

/** Exit status of `status` when the cluster is stopped (LSB's "not running"). */
const STOPPED = 3;

/** `sluice postgres start|stop|status`: the local PostgreSQL cluster for development and tests. */
export function postgresCommand(): Command {
  const command = new Command('postgres').description('a local PostgreSQL cluster (the machine\'s server, trusted on loopback) for development and tests');
  const progress = (line: string) => process.stderr.write(line + '\n');

  command
    .command('start')
    .description('create the cluster once, start it unless it runs; print its URL last (use it as DATABASE_URL)')
    .addOption(new Option('--port <port>', 'port to try first; another free one is picked if busy').argParser(Number))
    .action(async (options: { port?: number }) => {
      const running = await new LocalPostgres({ preferredPort: options.port, progress }).start();
      process.stdout.write(`${running.url}\n`);
    });

  command
    .command('stop')
    .description('stop it (pg_ctl stop -m fast); its data stays')
    .action(async () => {
      process.stdout.write((await new LocalPostgres({ progress }).stop()) ? 'stopped\n' : 'not running\n');
    });

  command
    .command('status')
    .description(`say whether it runs and where (exit status ${STOPPED} when stopped)`)
    .action(async () => {
      const postgres = new LocalPostgres();
      const status = await postgres.status();
      if (status.running) {
        process.stdout.write(`running at ${status.url} (pid ${status.pid}, PostgreSQL ${status.version}, log ${postgres.logFile})\n`);
      } else {
        process.stdout.write('stopped\n');
        process.exitCode = STOPPED;
      }
    });
  return command;
}
