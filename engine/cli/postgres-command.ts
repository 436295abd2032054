import type { Command } from 'commander';
import { LocalPostgres } from '../local/postgres/local-postgres.ts';
import { localServiceCommand } from './local-service-command.ts';

/** `sluice postgres start|stop|status`: the local PostgreSQL cluster for development and tests. */
export function postgresCommand(): Command {
  return localServiceCommand({
    name: 'postgres',
    description: "a local PostgreSQL cluster (the machine's server, trusted on loopback) for development and tests",
    start: 'create the cluster once, start it unless it runs; print its URL last (use it as DATABASE_URL)',
    stop: 'stop it (pg_ctl stop -m fast); its data stays',
    flags: { port: true },
    service: ({ port, progress }) => new LocalPostgres({ preferredPort: port, progress }),
    address: (postgres) => postgres.url,
    running: (postgres, service) => `${postgres.url} (pid ${postgres.pid}, PostgreSQL ${postgres.version}, log ${service.logFile})`,
    stopped: () => 'stopped',
  });
}
