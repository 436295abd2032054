/**
 * Conflict detection and resolution for mutations from edge nodes (the mutation-aggregator
 * scenario): pure functions over an entity's state, so the operator that keeps the state in a
 * store, the tests and a rebuild from the log all decide exactly alike.
 *
 * An entity has a version and, per attribute, the version (and time, priority, mutation) of its
 * last write. A mutation names the version it was made against (`base_version`). When the entity
 * has moved on since, the attributes the mutation touches that were written after its base
 * version are in conflict; the others merge. A strategy decides the conflicting attributes only.
 */

export type OperationType = 'CREATE' | 'UPDATE' | 'DELETE';

/** A mutation from an edge node, as the mutation-aggregator scenario sends it (snake_case, as on the wire). */
export interface Mutation {
  id: string;
  edge_node_id: string;
  entity_type: string;
  entity_id: string;
  operation_type: OperationType;
  attributes: Record<string, unknown>;
  base_version: number;
  /** ISO 8601. */
  timestamp: string;
  /** 1–10. */
  priority: number;
  dependencies: string[];
}

/** The last write of one attribute. */
export interface AttributeState {
  value: unknown;
  version: number;
  timestamp: string;
  priority: number;
  mutation: string;
}

export interface EntityState {
  /** 0 before the entity is created. */
  version: number;
  deleted: boolean;
  attributes: Record<string, AttributeState>;
}

/** One attribute both the entity (since the mutation's base) and the mutation changed. */
export interface AttributeConflict {
  attribute: string;
  current: AttributeState;
  incoming: { value: unknown; timestamp: string; priority: number; mutation: string };
}

/** What a strategy picks for a conflicting attribute: one side, or a value of its own. */
export type Choice = 'incoming' | 'current' | { value: unknown };

/** A strategy: one of the built-in ones, or a function deciding each conflicting attribute. */
export type Strategy = 'last-writer-wins' | 'first-writer-wins' | 'priority' | 'merge' | 'manual' | ((conflict: AttributeConflict, mutation: Mutation) => Choice);

/** A conflict left for a person: kept in `open-conflicts` until a resolution arrives. */
export interface OpenConflict {
  mutation_id: string;
  entity_type: string;
  entity_id: string;
  base_version: number;
  /** The entity's version once the mutation's other attributes were applied. */
  entity_version: number;
  conflicts: AttributeConflict[];
  timestamp: string;
}

export type Decision =
  /** No conflict: every change applies. */
  | { outcome: 'applied'; entity: EntityState; changes: Record<string, unknown>; deleted: boolean }
  /** Conflicts the strategy decided; `changes` is what applies. */
  | { outcome: 'resolved'; entity: EntityState; changes: Record<string, unknown>; deleted: boolean; conflicts: AttributeConflict[] }
  /** Conflicts left open (manual); the other changes apply. */
  | { outcome: 'conflict'; entity: EntityState; changes: Record<string, unknown>; deleted: boolean; open: OpenConflict }
  | { outcome: 'rejected'; reason: string };

export const NEW_ENTITY: EntityState = Object.freeze({ version: 0, deleted: false, attributes: {} }) as EntityState;

/** Decides what `mutation` does to `entity` (NEW_ENTITY if there is none yet). */
export function decide(entity: EntityState, mutation: Mutation, strategy: Strategy = 'last-writer-wins'): Decision {
  const exists = entity.version > 0 && !entity.deleted;
  const op = mutation.operation_type;
  if (op === 'CREATE' && exists) return reject(`entity ${key(mutation)} already exists (version ${entity.version})`);
  if (op !== 'CREATE' && !exists) return reject(`entity ${key(mutation)} ${entity.deleted ? 'is deleted' : 'does not exist'}`);
  if (mutation.base_version > entity.version) {
    return reject(`its base version ${mutation.base_version} is ahead of the entity's ${entity.version}: a mutation it builds on is missing`);
  }
  const incoming = (value: unknown) => ({ value, timestamp: mutation.timestamp, priority: mutation.priority, mutation: mutation.id });
  // A deletion touches every attribute the entity has.
  const touched = op === 'DELETE' ? Object.keys(entity.attributes) : Object.keys(mutation.attributes);
  const conflicts: AttributeConflict[] = [];
  for (const attribute of touched) {
    const current = entity.attributes[attribute];
    if (current && current.version > mutation.base_version) conflicts.push({ attribute, current, incoming: incoming(mutation.attributes[attribute]) });
  }
  if (conflicts.length === 0) {
    return { outcome: 'applied', ...apply(entity, mutation, op === 'DELETE' ? {} : mutation.attributes, op === 'DELETE') };
  }
  if (strategy === 'manual') {
    const conflicting = new Set(conflicts.map((c) => c.attribute));
    const rest = op === 'DELETE' ? {} : Object.fromEntries(Object.entries(mutation.attributes).filter(([a]) => !conflicting.has(a)));
    const applied = Object.keys(rest).length > 0 ? apply(entity, mutation, rest, false) : { entity, changes: {}, deleted: false };
    const open: OpenConflict = {
      mutation_id: mutation.id,
      entity_type: mutation.entity_type,
      entity_id: mutation.entity_id,
      base_version: mutation.base_version,
      entity_version: applied.entity.version,
      conflicts,
      timestamp: mutation.timestamp,
    };
    return { outcome: 'conflict', ...applied, open };
  }
  if (op === 'DELETE') {
    // The deletion against the newest conflicting write: it wins as a whole or not at all.
    const newest = conflicts.reduce((a, b) => (later(b.current, a.current) ? b : a));
    const choice = choose(strategy, newest, mutation);
    if (choice === 'incoming') return { outcome: 'resolved', ...apply(entity, mutation, {}, true), conflicts };
    return { outcome: 'resolved', entity, changes: {}, deleted: false, conflicts };
  }
  const changes: Record<string, unknown> = { ...mutation.attributes };
  for (const conflict of conflicts) {
    const choice = choose(strategy, conflict, mutation);
    if (choice === 'current') delete changes[conflict.attribute];
    else if (choice !== 'incoming') changes[conflict.attribute] = choice.value;
  }
  if (Object.keys(changes).length === 0) return { outcome: 'resolved', entity, changes, deleted: false, conflicts };
  return { outcome: 'resolved', ...apply(entity, mutation, changes, false), conflicts };
}

/**
 * Applies a person's resolution of an open conflict: per conflicting attribute, keep the current
 * value, take the mutation's, or set another. Refused if an attribute changed again since the
 * conflict opened (the person decided on values that are gone).
 */
export function resolve(entity: EntityState, open: OpenConflict, choices: Record<string, Choice>, at: { timestamp: string; mutation: string; priority: number }): Decision {
  if (entity.deleted || entity.version === 0) return reject(`entity ${open.entity_type}:${open.entity_id} ${entity.deleted ? 'is deleted' : 'does not exist'}`);
  const changes: Record<string, unknown> = {};
  for (const conflict of open.conflicts) {
    const now = entity.attributes[conflict.attribute];
    if (!now || now.version !== conflict.current.version) {
      return reject(`attribute ${conflict.attribute} changed again since the conflict opened; resolve it anew`);
    }
    const choice = choices[conflict.attribute] ?? 'current';
    if (choice === 'incoming') changes[conflict.attribute] = conflict.incoming.value;
    else if (choice !== 'current') changes[conflict.attribute] = choice.value;
  }
  const unknown = Object.keys(choices).filter((a) => !open.conflicts.some((c) => c.attribute === a));
  if (unknown.length > 0) return reject(`the resolution names attributes that are not in conflict: ${unknown.join(', ')}`);
  const writer = { id: at.mutation, timestamp: at.timestamp, priority: at.priority };
  if (Object.keys(changes).length === 0) return { outcome: 'resolved', entity, changes, deleted: false, conflicts: open.conflicts };
  return { outcome: 'resolved', ...applyWrites(entity, writer, changes, false), conflicts: open.conflicts };
}

function choose(strategy: Exclude<Strategy, 'manual'>, conflict: AttributeConflict, mutation: Mutation): Choice {
  const { current, incoming } = conflict;
  switch (strategy) {
    case 'last-writer-wins':
      return later(incoming, current) ? 'incoming' : 'current';
    case 'first-writer-wins':
      return later(current, incoming) ? 'incoming' : 'current';
    case 'priority':
      if (incoming.priority !== current.priority) return incoming.priority > current.priority ? 'incoming' : 'current';
      return later(incoming, current) ? 'incoming' : 'current';
    case 'merge':
      return merged(current, incoming);
    default:
      return strategy(conflict, mutation);
  }
}

/** Objects merge key by key (incoming over current), arrays join without repeats; other values: last writer wins. */
function merged(current: AttributeState, incoming: AttributeConflict['incoming']): Choice {
  const a = current.value;
  const b = incoming.value;
  if (Array.isArray(a) && Array.isArray(b)) {
    const seen = new Set(a.map((x) => JSON.stringify(x)));
    return { value: [...a, ...b.filter((x) => !seen.has(JSON.stringify(x)))] };
  }
  if (isPlainObject(a) && isPlainObject(b)) return { value: { ...a, ...b } };
  return later(incoming, current) ? 'incoming' : 'current';
}

/** Whether write `a` is later than `b`: by timestamp, then by mutation id (so every replica decides alike). */
function later(a: { timestamp: string; mutation: string }, b: { timestamp: string; mutation: string }): boolean {
  const ta = Date.parse(a.timestamp);
  const tb = Date.parse(b.timestamp);
  if (ta !== tb) return ta > tb;
  return a.mutation > b.mutation;
}

function apply(entity: EntityState, mutation: Mutation, changes: Record<string, unknown>, deleted: boolean) {
  return applyWrites(entity, { id: mutation.id, timestamp: mutation.timestamp, priority: mutation.priority }, changes, deleted);
}

function applyWrites(entity: EntityState, writer: { id: string; timestamp: string; priority: number }, changes: Record<string, unknown>, deleted: boolean) {
  const version = entity.version + 1;
  const attributes = deleted ? {} : { ...entity.attributes };
  if (!deleted) {
    for (const [attribute, value] of Object.entries(changes)) {
      attributes[attribute] = { value, version, timestamp: writer.timestamp, priority: writer.priority, mutation: writer.id };
    }
  }
  return { entity: { version, deleted, attributes }, changes, deleted };
}

function reject(reason: string): Decision {
  return { outcome: 'rejected', reason };
}

function key(m: Mutation): string {
  return `${m.entity_type}:${m.entity_id}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
