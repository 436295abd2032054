import type { ErrorHandling, GlobalErrorHandling, GlobalStoreSpec } from '../dsl/graph.ts';
import { TopologyError } from '../errors.ts';
import type { Serde } from '../serde/serde.ts';
import { resolveSerde } from '../serde/windowed.ts';
import type { CompiledGlobalStore, Subtopology } from './compiled.ts';

/** The application's defaults a global store takes where its table sets none. */
export interface GlobalStoreDefaults {
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  onDeserializationError?: ErrorHandling;
}

/**
 * Compiles the global tables' stores, apart from the sub-topologies (they generate no tasks): each
 * topic is read by one global table and by no stream or table (a record would be read twice, in
 * two places that do not see each other's state), serdes and error handling are resolved, and
 * every store a processor reads exists; each store learns which processors read it.
 */
export function compileGlobalStores(specs: readonly GlobalStoreSpec[], subtopologies: readonly Subtopology[], defaults: GlobalStoreDefaults): CompiledGlobalStore[] {
  const readers = new Map<string, string[]>();
  for (const node of subtopologies.flatMap((s) => s.nodes)) {
    if (node.kind !== 'processor') continue;
    for (const store of node.globalStores ?? []) {
      if (!specs.some((s) => s.name === store)) throw new TopologyError(node.name, `it reads global store "${store}", which no global table declares.`);
      readers.set(store, [...(readers.get(store) ?? []), node.name]);
    }
  }
  const topics = new Map<string, string>();
  return specs.map((spec) => {
    const other = topics.get(spec.topic);
    if (other !== undefined) throw new TopologyError(spec.name, `topic "${spec.topic}" is already read by global table "${other}"; read a topic into one global table and join with it wherever needed.`);
    topics.set(spec.topic, spec.name);
    const reader = subtopologies.flatMap((s) => s.nodes).find((n) => n.kind === 'source' && n.topics.includes(spec.topic));
    if (reader) {
      throw new TopologyError(
        spec.name,
        `topic "${spec.topic}" is also read by "${reader.name}"; a global table reads its topic alone. Read it once: as a global table (join with it), or as a stream or table.`,
      );
    }
    const bound = { key: defaults.keySerde, value: defaults.valueSerde };
    const keySerde = resolveSerde(spec.keySerde, defaults.keySerde, bound);
    const valueSerde = resolveSerde(spec.valueSerde, defaults.valueSerde, bound);
    for (const [part, serde] of [['key', keySerde], ['value', valueSerde]] as const) {
      if (!serde) throw new TopologyError(spec.name, `global table "${spec.name}" has no ${part} serde: pass { ${part}: … } to globalTable, or set a default ${part}Serde for the application.`);
    }
    return { name: spec.name, changelogTopic: spec.topic, keySerde: keySerde!, valueSerde: valueSerde!, onError: handling(spec, defaults.onDeserializationError), readBy: readers.get(spec.name) ?? [] };
  });
}

/**
 * The table's own handling, else the application's: which must then be one a global table can
 * follow (a dead-letter topic cannot be written with records applied outside any commit).
 */
function handling(spec: GlobalStoreSpec, fallback: ErrorHandling | undefined): GlobalErrorHandling {
  if (spec.onDeserializationError !== undefined) return spec.onDeserializationError;
  if (fallback === undefined || fallback === 'fail' || fallback === 'log-and-continue') return fallback ?? 'fail';
  throw new TopologyError(
    spec.name,
    `the application sends records that cannot be deserialized to dead-letter topic "${fallback.deadLetterTopic}", which a global table cannot do (its records are applied outside any task's commit): give globalTable onDeserializationError "fail" or "log-and-continue".`,
  );
}
