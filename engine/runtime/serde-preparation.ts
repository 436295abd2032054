import type { Logger } from '../observability/logger.ts';
import { AvroSerde } from '../serde/avro/avro-serde.ts';
import type { Serde } from '../serde/serde.ts';
import type { CompiledTopology } from '../topology/compiled.ts';

/**
 * Runs the asynchronous set-up of every serde for the topics it will write at start (a schema
 * registered or looked up), so the per-record path never waits on it: each sink's serdes for
 * its topic (repartition topics included), and each store's serdes for its changelog.
 */
export async function prepareSerdes(topology: CompiledTopology, log: Logger): Promise<void> {
  const pairs = new Map<Serde<unknown>, Set<string>>();
  const add = (serde: Serde<unknown>, topic: string) => {
    if (!serde.prepare) return;
    if (!pairs.has(serde)) pairs.set(serde, new Set());
    pairs.get(serde)!.add(topic);
  };
  for (const sub of topology.subtopologies) {
    for (const node of sub.nodes) {
      if (node.kind !== 'sink' || typeof node.topic !== 'string') continue;
      add(node.keySerde, node.topic);
      add(node.valueSerde, node.topic);
    }
  }
  for (const store of topology.stores) {
    add(store.keySerde, store.changelogTopic);
    add(store.valueSerde, store.changelogTopic);
  }
  for (const [serde, topics] of pairs) for (const topic of topics) await serde.prepare!(topic);
  const serdes = topology.subtopologies.flatMap((sub) => sub.nodes.flatMap((n) => (n.kind === 'processor' ? [] : [n.keySerde, n.valueSerde])));
  if ([...serdes, ...pairs.keys()].some((serde) => serde instanceof AvroSerde && serde.registry.embedded)) {
    log.warn('Avro serdes use the in-process schema registry: its schema ids mean nothing to other processes. Set SCHEMA_REGISTRY_URL when more than one process reads or writes these topics.');
  }
}

/** True when some source's serde fetches things before it reads (so batches must be prefetched). */
export function needsPrefetch(topology: CompiledTopology): boolean {
  return topology.subtopologies.some((sub) => sub.nodes.some((n) => n.kind === 'source' && (n.keySerde.prefetch || n.valueSerde.prefetch)));
}
