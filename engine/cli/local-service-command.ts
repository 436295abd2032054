import { Command, Option } from 'commander';
import type { LocalService, ServiceProcess } from '../local/service.ts';

/** Exit status of `status` when the service is stopped (LSB's "not running"). */
const STOPPED = 3;

/** The flags `start` may take. */
export interface StartFlags {
  port?: number;
  heap?: string;
}

/** What a service's `start` resolves to. */
type Running<S extends LocalService<ServiceProcess>> = Awaited<ReturnType<S['start']>>;

/** What one local service's `start|stop|status` commands say and do. */
export interface LocalServiceCommandSpec<S extends LocalService<ServiceProcess>> {
  name: string;
  description: string;
  start: string;
  stop: string;
  /** `start`'s `--port` (port to try first) and `--heap`, where the service takes them. */
  flags?: { port?: boolean; heap?: boolean };
  /** The service, with progress lines going to standard error. */
  service: (flags: StartFlags & { progress: (line: string) => void }) => S;
  /** What `start` prints last: the address to use. */
  address: (running: Running<S>) => string;
  /** What `status` prints after `running at` while it runs. */
  running: (status: Running<S>, service: S) => string;
  /** What `status` prints when it is stopped. */
  stopped: (service: S) => string;
}

/**
 * `sluice <service> start|stop|status` for a local development service: `start` prints the
 * address to use as its last line on standard output (progress goes to standard error), `stop`
 * prints `stopped` or `not running`, `status` says where it runs, or exits 3 when it is stopped.
 */
export function localServiceCommand<S extends LocalService<ServiceProcess>>(spec: LocalServiceCommandSpec<S>): Command {
  const command = new Command(spec.name).description(spec.description);
  const progress = (line: string) => process.stderr.write(line + '\n');

  const start = command.command('start').description(spec.start);
  if (spec.flags?.port) start.addOption(new Option('--port <port>', 'port to try first; another free one is picked if busy').argParser(Number));
  if (spec.flags?.heap) start.option('--heap <size>', 'maximum JVM heap, e.g. 512m');
  start.action(async (flags: StartFlags) => {
    const running = (await spec.service({ ...flags, progress }).start()) as Running<S>;
    process.stdout.write(`${spec.address(running)}\n`);
  });

  command
    .command('stop')
    .description(spec.stop)
    .action(async () => {
      const wasRunning = await spec.service({ progress }).stop();
      process.stdout.write(wasRunning ? 'stopped\n' : 'not running\n');
    });

  command
    .command('status')
    .description(`say whether it runs and where (exit status ${STOPPED} when stopped)`)
    .action(async () => {
      const service = spec.service({ progress });
      const status = await service.status();
      if (status.running) {
        process.stdout.write(`running at ${spec.running(status as Running<S>, service)}\n`);
      } else {
        process.stdout.write(`${spec.stopped(service)}\n`);
        process.exitCode = STOPPED;
      }
    });
  return command;
}
