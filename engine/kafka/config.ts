import { ConfigError } from '../errors.ts';

/** librdkafka configuration properties, passed through as they are. */
export type ClientProperties = Record<string, string | number | boolean>;

/** Where the brokers are and any extra librdkafka properties (security, tuning). */
export interface ConnectionOptions {
  /** `host:port[,host:port…]`; defaults to `KAFKA_BOOTSTRAP_SERVERS`. */
  bootstrapServers?: string;
  /** Extra librdkafka properties, for example `security.protocol` or `sasl.*`. */
  properties?: ClientProperties;
  /** Shows in broker logs and metrics. */
  clientId?: string;
}

/** The bootstrap servers to use: the explicit value, else `KAFKA_BOOTSTRAP_SERVERS`. */
export function resolveBootstrapServers(explicit?: string): string {
  const servers = (explicit ?? process.env.KAFKA_BOOTSTRAP_SERVERS ?? '').trim();
  if (!servers) {
    throw new ConfigError(
      'No Kafka bootstrap servers given: pass --bootstrap-servers HOST:PORT, set KAFKA_BOOTSTRAP_SERVERS, ' +
        'or start a local broker with `sluice kafka start`.',
    );
  }
  for (const server of servers.split(',')) {
    if (!/^[^\s:]+:\d{1,5}$/.test(server.trim())) {
      throw new ConfigError(`Bootstrap server "${server}" is not HOST:PORT; use e.g. 127.0.0.1:9092.`);
    }
  }
  return servers;
}

/** The properties every Sluice client shares. */
export function baseProperties(options: ConnectionOptions): ClientProperties {
  return {
    'bootstrap.servers': resolveBootstrapServers(options.bootstrapServers),
    'client.id': options.clientId ?? 'sluice',
    // Keep librdkafka's own log lines out of stdout; errors reach us as events and callbacks.
    log_level: 3,
    ...options.properties,
  };
}
