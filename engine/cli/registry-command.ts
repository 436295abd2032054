import type { Command } from 'commander';
import { LocalSchemaRegistry } from '../local/schema-registry/local-registry.ts';
import { localServiceCommand } from './local-service-command.ts';

/** `sluice registry start|stop|status`: the local schema registry for development and tests. */
export function registryCommand(): Command {
  return localServiceCommand({
    name: 'registry',
    description: 'a local Confluent-compatible schema registry (schemas in memory) for development and tests',
    start: 'build it once from crates.io, start it unless it runs; print its URL last (use it as SCHEMA_REGISTRY_URL)',
    stop: 'stop it (its schemas are forgotten)',
    service: ({ progress }) => new LocalSchemaRegistry({ progress }),
    address: (registry) => registry.url,
    running: (registry) => `${registry.url} (pid ${registry.pid}, rivven-schema ${registry.version})`,
    stopped: () => 'stopped',
  });
}
