import type { Stream, StreamOperator } from '../../dsl/api.ts';
import type { Named } from '../../dsl/stream-options.ts';
import { TopologyError } from '../../errors.ts';
import { passthrough } from '../../processors/passthrough.ts';
import { untyped } from '../../processors/processor.ts';
import { Serdes, type Serde } from '../../serde/serde.ts';
import { conflictDetector, type EffectiveMutation, type MutationStatus, type Resolution, type StoredConflict } from './conflict-detector.ts';
import type { Mutation, Strategy } from './conflicts.ts';
import { resolutionRoute } from './resolutions.ts';

/** Options of `detectConflicts`. */
export interface DetectConflictsOptions<K> extends Named {
  /** The store of each entity's state (version, attribute versions), by record key. */
  entities: string;
  /** The store of conflicts left open for a person (strategy `manual`), by mutation id. */
  openConflicts: string;
  /** Default `last-writer-wins`. */
  strategy?: Strategy;
  /**
   * Resolutions of open conflicts, keyed like the mutations (so they reach the same task). When
   * this stream reads a topic directly, the query server takes resolutions over HTTP too
   * (`POST /v1/stores/{openConflicts}/resolutions`) and writes them to that topic.
   */
  resolutions?: Stream<K, Resolution>;
}

/** What `detectConflicts` returns. */
export interface DetectedConflicts<K> {
  /** What goes on to be applied: the mutation, its changes, the new version, and how it was decided. */
  applied: Stream<K, EffectiveMutation>;
  /** The statuses it decides: CONFLICT when a conflict opens, REJECTED with the reason. */
  statuses: Stream<K, MutationStatus>;
  /** Each conflict opened, with the mutation it holds back. */
  conflicts: Stream<K, StoredConflict>;
}

/** The key under which a topology keeps its one resolutions route. */
const RESOLUTIONS = Symbol('mutations: resolutions route');

/**
 * Detects conflicts between mutations (keyed `entity_type:entity_id`) and resolves them with the
 * strategy (see conflicts.ts), applied with `stream.via`. Each entity's state is kept in store
 * `entities`, conflicts left open in `openConflicts`; a resolution on `resolutions` settles one.
 *
 * @example
 * ```ts
 * const decided = mutations.via(detectConflicts({ name: 'conflicts', entities: 'entities', openConflicts: 'open-conflicts', strategy: 'manual', resolutions }));
 * decided.statuses.to('mutation-status');
 * ```
 */
export function detectConflicts<K>(options: DetectConflictsOptions<K>): StreamOperator<K, Mutation, DetectedConflicts<K>> {
  return (stream, scope) => {
    const name = scope.name('KSTREAM-DETECTCONFLICTS', options.name);
    if (scope.keyChanged) throw new TopologyError(name, 'detectConflicts keeps state per entity key, and an operator upstream may have changed the keys: add .repartition() before it.');
    const json = Serdes.json() as Serde<unknown>;
    scope.addStore({ name: options.entities, keySerde: scope.serdes.key as Serde<unknown> | undefined, valueSerde: json, partitionedByKey: true }, name);
    scope.addStore({ name: options.openConflicts, keySerde: Serdes.string() as Serde<unknown>, valueSerde: json, partitionedByKey: false }, name);
    const resolutions = options.resolutions?.node;
    // One route serves every store of open conflicts in the topology; it finds the topic by store.
    const route = scope.shared(RESOLUTIONS, () => {
      const created = resolutionRoute();
      scope.addRoute(created);
      return created;
    });
    if (resolutions !== undefined && scope.isSource(resolutions)) route.writesTo[options.openConflicts] = resolutions;
    const parents = resolutions === undefined ? [stream.node] : [stream.node, resolutions];
    const node = scope.addProcessor({ name, operator: 'detectConflicts', parents, supplier: passthrough, stores: [options.entities, options.openConflicts] });
    const routes = { applied: scope.branch(name, 'applied'), statuses: scope.branch(name, 'statuses'), conflicts: scope.branch(name, 'conflicts') };
    node.supplier = untyped(conflictDetector(options.entities, options.openConflicts, options.strategy ?? 'last-writer-wins', routes));
    const key = scope.serdes.key;
    return {
      applied: scope.stream<K, EffectiveMutation>(routes.applied, { key, value: Serdes.json() }),
      statuses: scope.stream<K, MutationStatus>(routes.statuses, { key, value: Serdes.json() }),
      conflicts: scope.stream<K, StoredConflict>(routes.conflicts, { key, value: Serdes.json() }),
    };
  };
}
