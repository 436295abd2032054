import type { CompiledNode, CompiledTopology } from './compiled.ts';

/** The JSON form of `sluice describe` (a contract: tools read it). */
export interface TopologyDescription {
  applicationId: string;
  subtopologies: Array<{
    id: number;
    /** A join reads state across its source topics here: they must have equal partition counts (each partition's keys meet in one task). */
    copartitioned?: string[];
    nodes: Array<{
      name: string;
      type: 'source' | 'processor' | 'sink';
      operator?: string;
      topics?: string[];
      topic?: string;
      stores: string[];
      predecessors: string[];
      successors: string[];
    }>;
  }>;
  /** `partitionedByKey`: a query of one key asks one partition (true) or every partition (false). */
  stores: Array<{ name: string; changelog: string; ttlMs?: number; windowed?: { kind: string; sizeMs?: number; retentionMs: number; segmentIntervalMs: number }; partitionedByKey: boolean }>;
  topics: Array<{ name: string; type: 'source' | 'sink' | 'repartition' | 'changelog'; partitions: number | null }>;
  /** Global tables' stores (present when there are some): a whole copy of `topic` on every instance, in no sub-topology. */
  globalStores?: Array<{ name: string; topic: string; readBy: string[] }>;
}

const DYNAMIC = '<chosen per record>';

function topicOf(node: CompiledNode): string | undefined {
  return node.kind === 'sink' ? (typeof node.topic === 'string' ? node.topic : DYNAMIC) : undefined;
}

export function describeJson(topology: CompiledTopology): TopologyDescription {
  return {
    applicationId: topology.applicationId,
    subtopologies: topology.subtopologies.map((sub) => ({
      id: sub.id,
      ...(sub.copartitioned ? { copartitioned: sub.sourceTopics } : {}),
      nodes: sub.nodes.map((node) => ({
        name: node.name,
        type: node.kind,
        ...(node.kind === 'processor' ? { operator: node.operator } : {}),
        ...(node.kind === 'source' ? { topics: node.topics } : {}),
        ...(node.kind === 'sink' ? { topic: topicOf(node) } : {}),
        stores: node.kind === 'processor' ? node.stores : [],
        predecessors: node.parents,
        successors: node.children,
      })),
    })),
    stores: topology.stores.map((s) => ({
      name: s.name,
      changelog: s.changelogTopic,
      ...(s.ttlMs === undefined ? {} : { ttlMs: s.ttlMs }),
      ...(s.windowed ? { windowed: { kind: s.windowed.kind, ...(s.windowed.sizeMs === undefined ? {} : { sizeMs: s.windowed.sizeMs }), retentionMs: s.windowed.retentionMs, segmentIntervalMs: s.windowed.segmentIntervalMs } } : {}),
      partitionedByKey: s.partitionedByKey,
    })),
    topics: [
      ...topology.externalSourceTopics.map((name) => ({ name, type: 'source' as const, partitions: null })),
      ...topology.externalSinkTopics.map((name) => ({ name, type: 'sink' as const, partitions: null })),
      ...topology.internalTopics.map((t) => ({ name: t.name, type: t.kind, partitions: t.partitions ?? null })),
    ],
    ...(topology.globalStores.length > 0 ? { globalStores: topology.globalStores.map((g) => ({ name: g.name, topic: g.changelogTopic, readBy: g.readBy })) } : {}),
  };
}

/** Text in the shape of Kafka Streams' `TopologyDescription`. */
export function describeText(topology: CompiledTopology): string {
  const lines = [`Topologies (application.id: ${topology.applicationId}):`];
  for (const sub of topology.subtopologies) {
    lines.push(`   Sub-topology: ${sub.id}`);
    if (sub.copartitioned) lines.push(`    Co-partitioned: [${sub.sourceTopics.join(', ')}] (equal partition counts)`);
    for (const node of sub.nodes) {
      if (node.kind === 'source') lines.push(`    Source: ${node.name} (topics: [${node.topics.join(', ')}])`);
      else if (node.kind === 'processor') lines.push(`    Processor: ${node.name} (${node.operator}; stores: [${node.stores.join(', ')}]${node.globalStores ? `; global stores: [${node.globalStores.join(', ')}]` : ''})`);
      else lines.push(`    Sink: ${node.name} (topic: ${topicOf(node)})`);
      if (node.children.length > 0) lines.push(`      --> ${node.children.join(', ')}`);
      if (node.parents.length > 0) lines.push(`      <-- ${node.parents.join(', ')}`);
    }
  }
  if (topology.globalStores.length > 0) {
    // As Kafka Streams' "Global Stores": apart from the sub-topologies, since they make no tasks.
    lines.push('Global stores (a whole copy on every instance, no tasks):');
    for (const g of topology.globalStores) lines.push(`    ${g.name} (topic: ${g.changelogTopic}, read by: [${g.readBy.join(', ')}])`);
  }
  if (topology.stores.length > 0) {
    lines.push('Stores:');
    for (const s of topology.stores) {
      const ttl = s.ttlMs === undefined ? '' : `, ttl: ${s.ttlMs} ms`;
      const windows = s.windowed ? `, ${s.windowed.kind === 'session' ? 'sessions' : 'windows'} kept ${s.windowed.retentionMs} ms in segments of ${s.windowed.segmentIntervalMs} ms` : '';
      const lookup = s.partitionedByKey ? 'one partition (partitioned by key)' : 'every partition';
      lines.push(`    ${s.name} (sub-topology ${s.subtopology}, changelog: ${s.changelogTopic}${ttl}${windows}, key lookups ask: ${lookup})`);
    }
  }
  if (topology.internalTopics.length > 0) {
    lines.push('Internal topics:');
    for (const t of topology.internalTopics) lines.push(`    ${t.name} (${t.kind}, partitions: ${t.partitions ?? 'as its input'})`);
  }
  return lines.join('\n') + '\n';
}

/** A Mermaid flowchart: one subgraph per sub-topology, topics as stadium-shaped nodes. */
export function describeMermaid(topology: CompiledTopology): string {
  const id = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');
  const topicId = (name: string) => `topic_${id(name)}`;
  const storeId = (name: string) => `global_store_${id(name)}`;
  const lines = ['flowchart LR'];
  const topics = new Set<string>();
  for (const sub of topology.subtopologies) {
    lines.push(`  subgraph sub${sub.id}["Sub-topology ${sub.id}${sub.copartitioned ? ' (co-partitioned)' : ''}"]`);
    for (const node of sub.nodes) {
      const label = node.kind === 'processor' ? `${node.name}<br/>${node.operator}` : node.name;
      lines.push(`    ${id(node.name)}["${label}"]`);
    }
    lines.push('  end');
    for (const node of sub.nodes) {
      for (const child of node.children) lines.push(`  ${id(node.name)} --> ${id(child)}`);
      if (node.kind === 'source') {
        for (const t of node.topics) {
          topics.add(t);
          lines.push(`  ${topicId(t)} --> ${id(node.name)}`);
        }
      }
      if (node.kind === 'sink') {
        const t = topicOf(node)!;
        topics.add(t);
        lines.push(`  ${id(node.name)} --> ${topicId(t)}`);
      }
    }
  }
  if (topology.globalStores.length > 0) {
    lines.push('  subgraph global["Global stores"]');
    for (const g of topology.globalStores) lines.push(`    ${storeId(g.name)}[("${g.name}")]`);
    lines.push('  end');
    for (const g of topology.globalStores) {
      topics.add(g.changelogTopic);
      lines.push(`  ${topicId(g.changelogTopic)} --> ${storeId(g.name)}`);
      for (const reader of g.readBy) lines.push(`  ${storeId(g.name)} -.-> ${id(reader)}`);
    }
  }
  for (const t of topics) lines.push(`  ${topicId(t)}(["${t}"])`);
  return lines.join('\n') + '\n';
}
