/**
 * The mutation aggregator's model at the edges: checking a record as a mutation (the model in
 * docs/scenarios.md, "Mutation aggregator"), and writing a batch of decided mutations to the
 * `entities` table.
 */
import type { Batch, PostgresTransaction } from 'sluice';
import type { EffectiveMutation, Mutation } from 'sluice/mutations';

const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE']);

/** Thrown for a record that is not a mutation; the record goes to the dead-letter topic. */
export class InvalidMutationError extends Error {
  override name = 'InvalidMutationError';
}

/** The record key of a mutation: `entity_type:entity_id`. */
export const entityKey = (m: { entity_type: string; entity_id: string }) => `${m.entity_type}:${m.entity_id}`;

/** Parses and checks a record as a mutation keyed by its entity; throws {@link InvalidMutationError}. */
export function toMutation(key: string | null, raw: Buffer | null): Mutation {
  if (raw === null) throw new InvalidMutationError('the record has no value');
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidMutationError('the value is not valid JSON');
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw new InvalidMutationError('the value is not a JSON object');
  const text = (field: string) => typeof m[field] === 'string' && (m[field] as string).length > 0;
  for (const field of ['id', 'edge_node_id', 'entity_type', 'entity_id', 'timestamp']) if (!text(field)) throw new InvalidMutationError(`${field} is missing`);
  if (!OPERATIONS.has(m.operation_type as string)) throw new InvalidMutationError(`operation_type must be CREATE, UPDATE or DELETE; got ${JSON.stringify(m.operation_type)}`);
  if (!m.attributes || typeof m.attributes !== 'object' || Array.isArray(m.attributes)) throw new InvalidMutationError('attributes must be an object');
  if (!Number.isInteger(m.base_version) || (m.base_version as number) < 0) throw new InvalidMutationError('base_version must be an integer of 0 or more');
  if (Number.isNaN(Date.parse(m.timestamp as string))) throw new InvalidMutationError('timestamp must be an ISO 8601 date-time');
  if (!Number.isInteger(m.priority) || (m.priority as number) < 1 || (m.priority as number) > 10) throw new InvalidMutationError('priority must be an integer from 1 to 10');
  if (m.dependencies !== undefined && (!Array.isArray(m.dependencies) || m.dependencies.some((d) => typeof d !== 'string'))) {
    throw new InvalidMutationError('dependencies must be a list of mutation ids');
  }
  const mutation = { ...m, dependencies: (m.dependencies as string[] | undefined) ?? [] } as Mutation;
  if (key !== entityKey(mutation)) throw new InvalidMutationError(`the record key ${JSON.stringify(key)} is not ${JSON.stringify(entityKey(mutation))}`);
  return mutation;
}

export const ENTITIES_DDL = `CREATE TABLE IF NOT EXISTS entities (
  entity_type text NOT NULL, entity_id text NOT NULL, version bigint NOT NULL, attributes jsonb NOT NULL, deleted boolean NOT NULL,
  PRIMARY KEY (entity_type, entity_id))`;

/** One entity's row after a batch, and whether the batch replaces its attributes (it deleted the entity on the way). */
interface Row {
  type: string;
  id: string;
  version: number;
  attributes: Record<string, unknown>;
  deleted: boolean;
  replace: boolean;
}

/**
 * Folds a batch into one row per entity, in order: a deletion empties the attributes (the
 * entity's state does the same), later changes merge into what is left.
 */
export function foldBatch(batch: Batch<string, EffectiveMutation>): Row[] {
  const rows = new Map<string, Row>();
  for (const { value } of batch.records) {
    // A conflict decided wholly for the current values changes nothing (nor the version).
    if (!value.deleted && Object.keys(value.changes).length === 0) continue;
    const m = value.mutation;
    const key = entityKey(m);
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { type: m.entity_type, id: m.entity_id, version: value.version, attributes: {}, deleted: false, replace: false }));
    row.version = value.version;
    if (value.deleted) {
      row.attributes = {};
      row.deleted = true;
      row.replace = true;
    } else {
      Object.assign(row.attributes, value.changes);
      if (row.deleted) row.deleted = false;
    }
  }
  return [...rows.values()];
}

const UPSERT = (attributes: string) => `INSERT INTO entities (entity_type, entity_id, version, attributes, deleted)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[], $5::boolean[])
  ON CONFLICT (entity_type, entity_id) DO UPDATE SET version = EXCLUDED.version, deleted = EXCLUDED.deleted, attributes = ${attributes}`;
const MERGE = UPSERT('CASE WHEN entities.deleted THEN EXCLUDED.attributes ELSE entities.attributes || EXCLUDED.attributes END');
const REPLACE = UPSERT('EXCLUDED.attributes');

/** Writes a batch to `entities`: two statements (rows that merge, rows that replace), whatever its size. */
export async function writeBatch(tx: PostgresTransaction, batch: Batch<string, EffectiveMutation>): Promise<void> {
  const rows = foldBatch(batch);
  for (const [statement, part] of [
    [MERGE, rows.filter((r) => !r.replace)],
    [REPLACE, rows.filter((r) => r.replace)],
  ] as const) {
    if (part.length === 0) continue;
    await tx.query(statement, [part.map((r) => r.type), part.map((r) => r.id), part.map((r) => r.version), part.map((r) => JSON.stringify(r.attributes)), part.map((r) => r.deleted)]);
  }
}
