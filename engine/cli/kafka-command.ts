import type { Command } from 'commander';
import { LocalBroker } from '../local/kafka/local-broker.ts';
import { localServiceCommand } from './local-service-command.ts';

/** `sluice kafka start|stop|status`: the local development broker. */
export function kafkaCommand(): Command {
  return localServiceCommand({
    name: 'kafka',
    description: 'a local single-node Apache Kafka broker for development and tests',
    start: 'start the broker unless it runs; print its bootstrap address HOST:PORT last',
    stop: 'stop the broker cleanly',
    flags: { port: true, heap: true },
    service: ({ port, heap, progress }) => new LocalBroker({ preferredPort: port, heap, progress }),
    address: (broker) => broker.address,
    running: (broker, service) => `${broker.address} (pid ${broker.pid}, Kafka ${broker.version}, log ${service.logFile})`,
    stopped: (broker) => `stopped (Kafka ${broker.version})`,
  });
}
