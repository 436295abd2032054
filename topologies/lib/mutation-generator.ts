/**
 * A generator of mutations from edge nodes, for the mutation aggregator's tests and benchmark,
 * with known fractions of duplicates, conflicts (stale base versions) and dependencies, and the
 * outcome each mutation must have: the reference model, decided entity by entity in log order
 * with the same pure conflict rules the operator uses (engine/extensions/mutations/conflicts.ts).
 */
import { decide, NEW_ENTITY, type EntityState, type Mutation, type Strategy } from 'sluice/mutations';
import { entityKey } from './mutations.ts';

export interface GeneratorOptions {
  edgeNodes: number;
  entities: number;
  mutations: number;
  /** Fraction of records that are a resend of an earlier mutation (same id). */
  duplicates: number;
  /** Fraction of updates made against an older version than the entity's (stale edge nodes). */
  stale: number;
  /** Fraction of mutations that depend on the entity's previous applied mutation. */
  dependent: number;
  /** Mutations, each on an entity of its own, that depend on a mutation that never comes. */
  orphans: number;
  seed: number;
  strategy?: Strategy;
  /** Prefixes mutation ids (and orphan entities), so that two workloads never share an id. Default `m`. */
  idPrefix?: string;
  /** Prefixes entity ids. Default `e`. */
  entityPrefix?: string;
}

export interface GeneratedMutations {
  records: Array<{ key: string; value: string }>;
  /** The terminal status each mutation id must get (duplicates aside). */
  expected: Map<string, 'APPLIED' | 'RESOLVED' | 'REJECTED' | 'FAILED'>;
  duplicatesSent: number;
  /** Each entity's row in `entities` at the end: version, attribute values, deleted. */
  entities: Map<string, { version: number; attributes: Record<string, unknown>; deleted: boolean }>;
  conflicts: number;
}

const TYPES = ['order', 'customer', 'inventory', 'product', 'note'];
const FIELDS = ['name', 'status', 'qty', 'price', 'owner', 'city', 'tags'];

export function generateMutations(options: GeneratorOptions): GeneratedMutations {
  let s = options.seed;
  const random = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const strategy = options.strategy ?? 'last-writer-wins';
  const start = Date.UTC(2026, 10, 23, 12, 0);
  const states = new Map<string, EntityState>();
  /** Per entity: its last applied mutation id and the versions it reached. */
  const lastApplied = new Map<string, string>();
  const expected = new Map<string, 'APPLIED' | 'RESOLVED' | 'REJECTED' | 'FAILED'>();
  const records: Array<{ key: string; value: string }> = [];
  const sent: Mutation[] = [];
  let duplicatesSent = 0;
  let conflicts = 0;
  const entityList = Array.from({ length: options.entities }, (_, i) => ({ type: TYPES[i % TYPES.length]!, id: `${options.entityPrefix ?? 'e'}${i}` }));

  for (let n = 0; n < options.mutations; n++) {
    if (sent.length > 0 && random() < options.duplicates) {
      const again = sent[Math.floor(random() * sent.length)]!;
      records.push({ key: entityKey(again), value: JSON.stringify(again) });
      duplicatesSent++;
      continue;
    }
    const entity = pick(entityList);
    const key = entityKey({ entity_type: entity.type, entity_id: entity.id });
    const state = states.get(key) ?? NEW_ENTITY;
    const exists = state.version > 0 && !state.deleted;
    const roll = random();
    const operation: Mutation['operation_type'] = !exists ? (roll < 0.9 ? 'CREATE' : 'UPDATE') : roll < 0.04 ? 'DELETE' : roll < 0.06 ? 'CREATE' : 'UPDATE';
    const attributes: Record<string, unknown> = {};
    if (operation !== 'DELETE') {
      const count = operation === 'CREATE' ? 3 : 1 + Math.floor(random() * 2);
      for (let a = 0; a < count; a++) {
        const field = pick(FIELDS);
        attributes[field] = field === 'qty' || field === 'price' ? Math.floor(random() * 1000) : field === 'tags' ? [pick(TYPES), `t${n % 7}`] : `${field}-${n}`;
      }
    }
    const stale = exists && state.version > 1 && random() < options.stale;
    const base = stale ? Math.max(1, state.version - 1 - Math.floor(random() * 3)) : state.version;
    // Stale edge nodes also have clocks of their own: their timestamps fall before or after.
    const minute = stale ? n - Math.floor(random() * 40) + 20 : n;
    const dependsOnPrevious = lastApplied.has(key) && random() < options.dependent;
    const mutation: Mutation = {
      id: `${options.idPrefix ?? 'm'}${n}`,
      edge_node_id: `edge-${Math.floor(random() * options.edgeNodes)}`,
      entity_type: entity.type,
      entity_id: entity.id,
      operation_type: operation,
      attributes,
      base_version: base,
      timestamp: new Date(start + minute * 1000).toISOString(),
      priority: 1 + Math.floor(random() * 10),
      dependencies: dependsOnPrevious ? [lastApplied.get(key)!] : [],
    };
    const decision = decide(state, mutation, strategy);
    if (decision.outcome === 'rejected') {
      expected.set(mutation.id, 'REJECTED');
    } else {
      if (decision.outcome === 'resolved') conflicts++;
      expected.set(mutation.id, decision.outcome === 'applied' ? 'APPLIED' : 'RESOLVED');
      states.set(key, decision.entity);
      lastApplied.set(key, mutation.id);
    }
    records.push({ key, value: JSON.stringify(mutation) });
    sent.push(mutation);
  }
  for (let o = 0; o < options.orphans; o++) {
    const mutation: Mutation = {
      id: `${options.idPrefix ?? ''}orphan${o}`,
      edge_node_id: 'edge-0',
      entity_type: 'note',
      entity_id: `${options.idPrefix ?? ''}orphan-${o}`,
      operation_type: 'CREATE',
      attributes: { name: `orphan ${o}` },
      base_version: 0,
      timestamp: new Date(start).toISOString(),
      priority: 5,
      dependencies: [`never-sent-${o}`],
    };
    expected.set(mutation.id, 'FAILED');
    records.splice(Math.floor(random() * records.length), 0, { key: entityKey(mutation), value: JSON.stringify(mutation) });
  }
  const entities = new Map<string, { version: number; attributes: Record<string, unknown>; deleted: boolean }>();
  for (const [key, state] of states) {
    entities.set(key, { version: state.version, deleted: state.deleted, attributes: Object.fromEntries(Object.entries(state.attributes).map(([a, v]) => [a, v.value])) });
  }
  return { records, expected, duplicatesSent, entities, conflicts };
}
