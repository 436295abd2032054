/**
 * The mutation aggregator's ranking (its design's prioritisation algorithm), for
 * `stream.prioritize`, and the id and dependency functions of its mutations, for `stream.batch`.
 */
import type { Mutation } from './conflicts.ts';

export interface MutationPriorityOptions {
  /** Entity types whose mutations gain 3. */
  criticalEntities?: Iterable<string>;
  /** Entity types whose mutations gain 1 (unless critical). */
  importantEntities?: Iterable<string>;
}

const MINUTE = 60_000;

/**
 * The adjusted priority of a mutation: its own `priority`, +3 for a critical entity type (else +1
 * for an important one), +2 for a DELETE (else +1 for a CREATE), and +2 when it was made more than
 * 60 minutes ago (else +1 beyond 15 minutes), by its `timestamp`; a timestamp that does not parse
 * falls back to the record's age. A missing or non-numeric `priority` counts as 0.
 *
 * @example
 * ```ts
 * mutations.prioritize({ name: 'rank', store: 'ranked-mutations', maxBuffered: 10_000, windowMs: 500,
 *   priority: mutationPriority({ criticalEntities: ['order', 'payment'], importantEntities: ['customer'] }) });
 * ```
 */
export function mutationPriority(options: MutationPriorityOptions = {}): (key: unknown, mutation: Mutation, ageMs: number, now: number) => number {
  const critical = new Set(options.criticalEntities ?? []);
  const important = new Set(options.importantEntities ?? []);
  return (_key, mutation, ageMs, now) => {
    let priority = typeof mutation.priority === 'number' && Number.isFinite(mutation.priority) ? mutation.priority : 0;
    if (critical.has(mutation.entity_type)) priority += 3;
    else if (important.has(mutation.entity_type)) priority += 1;
    if (mutation.operation_type === 'DELETE') priority += 2;
    else if (mutation.operation_type === 'CREATE') priority += 1;
    const made = Date.parse(mutation.timestamp);
    const age = Number.isNaN(made) ? ageMs : now - made;
    if (age > 60 * MINUTE) priority += 2;
    else if (age > 15 * MINUTE) priority += 1;
    return priority;
  };
}

/** A mutation's id, for `batch`'s `id`. */
export const mutationId = (mutation: Mutation): string => mutation.id;

/** The ids a mutation depends on, for `batch`'s `dependsOn`. */
export const mutationDependencies = (mutation: Mutation): string[] => mutation.dependencies ?? [];
