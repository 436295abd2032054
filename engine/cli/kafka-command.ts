import { Command, Option } from 'commander';
import { LocalBroker } from '../kafka/local-broker/local-broker.ts';

/** Exit status of `status` when the broker is stopped (LSB's "not running"). */
const STOPPED = 3;

/** `sluice kafka start|stop|status`: the local development broker. */
export function kafkaCommand(): Command {
  const command = new Command('kafka').description('a local single-node Apache Kafka broker for development and tests');
  const progress = (line: string) => process.stderr.write(line + '\n');

  command
    .command('start')
    .description('start the broker unless it runs; print its bootstrap address HOST:PORT last')
    .addOption(new Option('--port <port>', 'port to try first; another free one is picked if busy').argParser(Number))
    .option('--heap <size>', 'maximum JVM heap, e.g. 512m')
    .action(async (options: { port?: number; heap?: string }) => {
      const broker = new LocalBroker({ preferredPort: options.port, heap: options.heap, progress });
      const running = await broker.start();
      process.stdout.write(`${running.address}\n`);
    });

  command
    .command('stop')
    .description('stop the broker cleanly')
    .action(async () => {
      const wasRunning = await new LocalBroker({ progress }).stop();
      process.stdout.write(wasRunning ? 'stopped\n' : 'not running\n');
    });

  command
    .command('status')
    .description(`say whether the broker runs and where (exit status ${STOPPED} when stopped)`)
    .action(async () => {
      const broker = new LocalBroker();
      const status = await broker.status();
      if (status.running) {
        process.stdout.write(`running at ${status.address} (pid ${status.pid}, Kafka ${status.version}, log ${broker.logFile})\n`);
      } else {
        process.stdout.write(`stopped (Kafka ${status.version})\n`);
        process.exitCode = STOPPED;
      }
    });
  return command;
}
