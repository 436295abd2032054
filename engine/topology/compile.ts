import type { ErrorHandling, NodeSpec, RouteSpec, SinkSpec, SourceSpec, StoreSpec } from '../dsl/graph.ts';
import type { Topology } from '../dsl/topology.ts';
import { TopologyError } from '../errors.ts';
import type { CompiledRoute, TopicTarget } from '../iq/routes.ts';
import type { Serde } from '../serde/serde.ts';
import { resolveSerde } from '../serde/windowed.ts';
import type { WindowedStoreSpec } from '../../state/window/segment-retention.ts';
import { SegmentedKeys, type WindowedKey } from '../../state/window/windowed-keys.ts';
import { markReplayableInputs } from './replayable-input.ts';
import type { CompiledNode, CompiledStore, CompiledTopology, InternalTopic, Subtopology } from './compiled.ts';
import { compileGlobalStores } from './global-stores.ts';

/** How much longer than its store a windowed changelog keeps records: a day, as Kafka Streams. */
const CHANGELOG_EXTRA_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Application-wide settings the compiler applies where an operator does not set its own. */
export interface CompileOptions {
  applicationId: string;
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  onDeserializationError?: ErrorHandling;
  onProcessingError?: ErrorHandling;
}

/**
 * Compiles a topology in phases: check names and wiring, reject cycles, expand repartitions
 * into internal topics, split into sub-topologies, resolve serdes and error handling, check
 * that no sub-topology writes into its own source, and resolve the topics of operators' query
 * routes. Every failure is a {@link TopologyError} naming the operator.
 */
export function compile(topology: Topology, options: CompileOptions): CompiledTopology {
  if (!options.applicationId || !/^[A-Za-z0-9._-]+$/.test(options.applicationId)) {
    throw new TopologyError(undefined, `application id "${options.applicationId}" must be non-empty and use only letters, digits, ".", "_" and "-".`);
  }
  const specs = topology.graph.nodes;
  if (!specs.some((n) => n.kind === 'source')) {
    throw new TopologyError(undefined, 'the topology reads no topic: add a stream(...) or addSource(...).');
  }
  checkWiring(specs);
  checkCycles(specs);
  const { nodes, internalTopics } = expand(specs, options);
  const subtopologies = splitIntoSubtopologies(nodes);
  for (const sub of subtopologies) markReplayableInputs(sub);
  checkSources(subtopologies);
  checkSelfFeeding(subtopologies);
  for (const topic of internalTopics) {
    topic.writtenBy = subtopologies.find((s) => s.nodes.some((n) => n.kind === 'sink' && n.topic === topic.name))!.id;
  }
  const stores = compileStores(topology.graph.stores, subtopologies, options);
  for (const store of stores) {
    if (!store.sourceChangelog) {
      internalTopics.push({ name: store.changelogTopic, kind: 'changelog', partitions: undefined, writtenBy: store.subtopology, config: changelogConfig(store) });
    }
  }
  const globalStores = compileGlobalStores(topology.graph.globalStores, subtopologies, options);
  const internal = new Set(internalTopics.map((t) => t.name));
  const sources = [...subtopologies.flatMap((s) => s.sourceTopics).filter((t) => !internal.has(t)), ...globalStores.map((g) => g.changelogTopic)];
  const sinks = subtopologies
    .flatMap((s) => s.nodes)
    .flatMap((n) => (n.kind === 'sink' && typeof n.topic === 'string' && !n.internal ? [n.topic] : []));
  return {
    applicationId: options.applicationId,
    subtopologies,
    internalTopics,
    stores,
    globalStores,
    externalSourceTopics: [...new Set(sources)],
    externalSinkTopics: [...new Set(sinks)],
    routes: compileRoutes(topology.graph.routes, subtopologies),
  };
}

/** Phase 1: every parent exists, every non-source has one, names are unique. */
function checkWiring(specs: NodeSpec[]): void {
  const names = new Set<string>();
  for (const node of specs) {
    if (names.has(node.name)) throw new TopologyError(node.name, 'the name is used by another operator; names must be unique.');
    names.add(node.name);
  }
  for (const node of specs) {
    if (node.kind === 'source') continue;
    if (node.parents.length === 0) {
      throw new TopologyError(node.name, `a ${node.kind} needs at least one parent node to read from.`);
    }
    for (const parent of node.parents) {
      if (!names.has(parent)) {
        const hint = closestName(parent, [...names]);
        throw new TopologyError(node.name, `its parent "${parent}" is not a node of this topology${hint ? `; did you mean "${hint}"?` : '.'}`);
      }
      const spec = specs.find((n) => n.name === parent)!;
      if (spec.kind === 'sink') throw new TopologyError(node.name, `its parent "${parent}" is a sink, and sinks have no output.`);
    }
  }
}

/** Phase 2: the node graph is acyclic. */
function checkCycles(specs: NodeSpec[]): void {
  const parentsOf = new Map(specs.map((n) => [n.name, n.kind === 'source' ? [] : n.parents]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name].reverse();
      throw new TopologyError(name, `it is part of a cycle (${cycle.join(' -> ')}); records would loop forever. Break the cycle, or send records back through a topic.`);
    }
    state.set(name, 'visiting');
    path.push(name);
    for (const parent of parentsOf.get(name) ?? []) visit(parent);
    path.pop();
    state.set(name, 'done');
  };
  for (const node of specs) visit(node.name);
}

/** Phase 3: repartitions become a sink and a source around an internal topic; defaults resolved. */
function expand(specs: NodeSpec[], options: CompileOptions): { nodes: CompiledNode[]; internalTopics: InternalTopic[] } {
  const nodes: CompiledNode[] = [];
  const internalTopics: InternalTopic[] = [];
  const renamed = new Map<string, string>(); // a repartition's name -> its reading source
  const processingDefault = options.onProcessingError ?? 'fail';
  for (const spec of specs) {
    switch (spec.kind) {
      case 'source':
        nodes.push({
          kind: 'source',
          name: spec.name,
          topics: spec.topics,
          ...serdesFor(spec, options, 'read'),
          onError: spec.onDeserializationError ?? options.onDeserializationError ?? 'fail',
          internal: false,
          ...(spec.timestampExtractor ? { timestampExtractor: spec.timestampExtractor } : {}),
          parents: [],
          children: [],
        });
        break;
      case 'processor':
        nodes.push({ ...spec, onError: spec.onError ?? processingDefault, stores: spec.stores ?? [], children: [] });
        break;
      case 'sink':
        nodes.push({ ...spec, ...serdesFor(spec, options, 'write'), onError: spec.onError ?? processingDefault, internal: false, children: [] });
        break;
      case 'repartition': {
        const topic = `${options.applicationId}-${spec.topic}-repartition`;
        const serdes = serdesFor(spec, options, 'repartition');
        // No time retention: the records keep their source's timestamps; committed ones are purged instead (runtime/repartition-purge.ts).
        internalTopics.push({ name: topic, kind: 'repartition', partitions: spec.partitions, writtenBy: -1, config: { 'retention.ms': '-1' } });
        nodes.push({ kind: 'sink', name: `${spec.name}-sink`, topic, ...serdes, onError: processingDefault, internal: true, parents: spec.parents, children: [] });
        nodes.push({ kind: 'source', name: `${spec.name}-source`, topics: [topic], ...serdes, onError: 'fail', internal: true, parents: [], children: [] });
        renamed.set(spec.name, `${spec.name}-source`);
        break;
      }
    }
  }
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const node of nodes) {
    node.parents = node.parents.map((p) => renamed.get(p) ?? p);
    for (const parent of node.parents) byName.get(parent)!.children.push(node.name);
  }
  return { nodes, internalTopics };
}

function serdesFor(
  spec: SourceSpec | SinkSpec | { name: string; keySerde?: Serde<unknown>; valueSerde?: Serde<unknown> },
  options: CompileOptions,
  use: 'read' | 'write' | 'repartition',
): { keySerde: Serde<unknown>; valueSerde: Serde<unknown> } {
  const defaults = { key: options.keySerde, value: options.valueSerde };
  const keySerde = resolveSerde(spec.keySerde, options.keySerde, defaults);
  const valueSerde = resolveSerde(spec.valueSerde, options.valueSerde, defaults);
  const where =
    use === 'read' ? 'stream(topic, { key, value })' : use === 'write' ? 'to(topic, { key, value })' : 'repartition({ key, value })';
  for (const [part, serde] of [
    ['key', keySerde],
    ['value', valueSerde],
  ] as const) {
    if (!serde) {
      throw new TopologyError(
        spec.name,
        `no ${part} serde to ${use === 'read' ? 'read' : 'write'} records with: pass one to ${where}, or set a default ${part}Serde for the application.`,
      );
    }
  }
  return { keySerde: keySerde!, valueSerde: valueSerde! };
}

/** Phase 7: each store belongs to one sub-topology, has serdes, and has a changelog. */
function compileStores(specs: StoreSpec[], subtopologies: Subtopology[], options: CompileOptions): CompiledStore[] {
  const users = new Map<string, Array<{ node: string; subtopology: number }>>();
  for (const sub of subtopologies) {
    for (const node of sub.nodes) {
      if (node.kind !== 'processor') continue;
      for (const store of node.stores) {
        if (!specs.some((s) => s.name === store)) throw new TopologyError(node.name, `it uses store "${store}", which no operator declares.`);
        users.set(store, [...(users.get(store) ?? []), { node: node.name, subtopology: sub.id }]);
      }
    }
  }
  return specs.map((spec) => {
    const using = users.get(spec.name) ?? [];
    if (using.length === 0) throw new TopologyError(undefined, `store "${spec.name}" is declared but no operator uses it.`);
    // Nodes sharing a store are in one sub-topology (phase 4).
    const subtopology = using[0]!.subtopology;
    if (spec.preload && spec.ttlMs !== undefined) {
      throw new TopologyError(using[0]!.node, `store "${spec.name}" cannot both expire entries and be preloaded; drop ttlMs or preload.`);
    }
    const defaults = { key: options.keySerde, value: options.valueSerde };
    const keySerde = resolveSerde(spec.keySerde, options.keySerde, defaults);
    const valueSerde = resolveSerde(spec.valueSerde, options.valueSerde, defaults);
    for (const [part, serde] of [['key', keySerde], ['value', valueSerde]] as const) {
      if (!serde) {
        throw new TopologyError(using[0]!.node, `store "${spec.name}" has no ${part} serde: pass { ${part}: … } with the store's name, or set a default ${part}Serde for the application.`);
      }
    }
    return {
      name: spec.name,
      keySerde: spec.windowed ? segmentedKeySerde(keySerde!, spec.windowed) : keySerde!,
      windowed: spec.windowed,
      ...(spec.windowed ? { windowKeySerde: keySerde! } : {}),
      valueSerde: valueSerde!,
      changelogTopic: spec.sourceTopic ?? `${options.applicationId}-${spec.name}-changelog`,
      sourceChangelog: spec.sourceTopic !== undefined,
      caching: spec.caching ?? true,
      ...(spec.readCache === undefined ? {} : { readCache: spec.readCache }),
      ttlMs: spec.ttlMs,
      preload: spec.preload ?? false,
      subtopology,
      partitionedByKey: spec.partitionedByKey ?? false,
    };
  });
}

/**
 * A changelog's topic settings: compacted; a windowed store's also drops records by time, a day
 * beyond the store's retention (Kafka Streams' `windowstore.changelog.additional.retention.ms`),
 * so that expired windows leave the changelog as they leave the store. Its records are stamped
 * with the time the broker appends them: stamped with event time, as Kafka Streams does, the
 * changelog of a run over last month's events would lose its records to time retention as soon
 * as they are written, and a task moved to another instance would restore nothing.
 */
function changelogConfig(store: CompiledStore): Record<string, string> {
  if (!store.windowed) return { 'cleanup.policy': 'compact' };
  return {
    'cleanup.policy': 'compact,delete',
    'retention.ms': String(store.windowed.retentionMs + CHANGELOG_EXTRA_RETENTION_MS),
    'message.timestamp.type': 'LogAppendTime',
  };
}

/** A windowed store's keys: segment, key, window (see state/window/windowed-keys.ts). */
function segmentedKeySerde(inner: Serde<unknown>, windowed: WindowedStoreSpec): Serde<unknown> {
  const keys = new SegmentedKeys(inner, windowed.kind, windowed.sizeMs, windowed.segmentIntervalMs);
  return {
    name: `${windowed.kind}-windowed(${inner.name})`,
    serialize: (value, topic) => keys.serialize(value as WindowedKey<unknown>, topic),
    deserialize: (data, topic) => keys.deserialize(data, topic),
    identity: (value) => keys.identity(value as WindowedKey<unknown>),
    prepare: inner.prepare?.bind(inner),
  };
}

/**
 * Phase 8: each route has a method and path of its own, and the topics it writes to are those
 * its source nodes read (a source reading several topics gives none: which one would it be?).
 */
function compileRoutes(specs: RouteSpec[], subtopologies: Subtopology[]): CompiledRoute[] {
  const sources = new Map(subtopologies.flatMap((s) => s.nodes).flatMap((n) => (n.kind === 'source' ? [[n.name, n] as const] : [])));
  const seen = new Set<string>();
  return specs.map((spec) => {
    const id = `${spec.method} ${spec.path}`;
    if (seen.has(id)) throw new TopologyError(undefined, `two operators add the query route ${id}; a route can be served once.`);
    seen.add(id);
    const targets = new Map<string, TopicTarget>();
    for (const [name, node] of Object.entries(spec.writesTo)) {
      const source = sources.get(node);
      if (source?.topics.length === 1) targets.set(name, { topic: source.topics[0]!, keySerde: source.keySerde, valueSerde: source.valueSerde });
    }
    return { method: spec.method, path: spec.path, targets, handle: spec.handle };
  });
}

/**
 * Phase 4: connected nodes form a sub-topology, as do nodes that use the same store (a join and
 * the table it reads); ids follow the order sources were declared.
 */
function splitIntoSubtopologies(nodes: CompiledNode[]): Subtopology[] {
  const group = new Map<string, string>(nodes.map((n) => [n.name, n.name]));
  const find = (name: string): string => {
    let root = name;
    while (group.get(root) !== root) root = group.get(root)!;
    group.set(name, root);
    return root;
  };
  for (const node of nodes) for (const parent of node.parents) group.set(find(node.name), find(parent));
  const storeUser = new Map<string, string>();
  for (const node of nodes) {
    if (node.kind !== 'processor') continue;
    for (const store of node.stores) {
      const other = storeUser.get(store);
      if (other === undefined) storeUser.set(store, node.name);
      else group.set(find(node.name), find(other));
    }
  }

  const members = new Map<string, CompiledNode[]>();
  for (const node of nodes) {
    const root = find(node.name);
    if (!members.has(root)) members.set(root, []);
    members.get(root)!.push(node);
  }
  return [...members.values()]
    .map((list) => ({ list, first: nodes.indexOf(list.find((n) => n.kind === 'source') ?? list[0]!) }))
    .sort((a, b) => a.first - b.first)
    .map(({ list }, id) => ({
      id,
      sourceTopics: [...new Set(list.flatMap((n) => (n.kind === 'source' ? n.topics : [])))],
      copartitioned: list.some((n) => n.kind === 'processor' && n.copartitioned === true),
      nodes: topologicalOrder(list),
    }));
}

function topologicalOrder(list: CompiledNode[]): CompiledNode[] {
  const pending = new Map(list.map((n) => [n.name, n.parents.length]));
  const byName = new Map(list.map((n) => [n.name, n]));
  const queue = list.filter((n) => n.parents.length === 0);
  const ordered: CompiledNode[] = [];
  while (queue.length > 0) {
    const node = queue.shift()!;
    ordered.push(node);
    for (const child of node.children) {
      const left = pending.get(child)! - 1;
      pending.set(child, left);
      if (left === 0) queue.push(byName.get(child)!);
    }
  }
  return ordered;
}

/** Phase 5: each topic is read by one source. */
function checkSources(subtopologies: Subtopology[]): void {
  const readers = new Map<string, string>();
  for (const node of subtopologies.flatMap((s) => s.nodes)) {
    if (node.kind !== 'source') continue;
    for (const topic of node.topics) {
      const other = readers.get(topic);
      if (other) {
        throw new TopologyError(node.name, `topic "${topic}" is already read by "${other}"; read a topic once and branch with split(), or combine with merge().`);
      }
      readers.set(topic, node.name);
    }
  }
}

/** Phase 6: no sub-topology writes to a topic it reads (an endless loop through the broker). */
function checkSelfFeeding(subtopologies: Subtopology[]): void {
  for (const sub of subtopologies) {
    for (const node of sub.nodes) {
      if (node.kind === 'sink' && typeof node.topic === 'string' && sub.sourceTopics.includes(node.topic)) {
        throw new TopologyError(
          node.name,
          `it writes to "${node.topic}", which its own sub-topology reads, so every record would come back forever. Write to another topic.`,
        );
      }
    }
  }
}

function closestName(word: string, names: string[]): string | undefined {
  return names.find((n) => n.toLowerCase() === word.toLowerCase()) ?? names.find((n) => n.startsWith(word) || word.startsWith(n));
}
