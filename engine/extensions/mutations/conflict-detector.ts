import type { ProcessorSupplier } from '../../processors/processor.ts';
import { decide, NEW_ENTITY, resolve, type Choice, type Decision, type EntityState, type Mutation, type OpenConflict, type Strategy } from './conflicts.ts';

/** A person's decision on an open conflict, sent on the resolutions stream keyed like the mutation. */
export interface Resolution {
  mutation_id: string;
  /** Per conflicting attribute: keep `current`, take `incoming`, or `{ value }`; unnamed ones keep current. */
  choices: Record<string, Choice>;
  resolved_by?: string;
  /** ISO 8601. */
  timestamp: string;
}

/** What goes on to be applied: the mutation, what it changes, and how that was decided. */
export interface EffectiveMutation {
  mutation: Mutation;
  /**
   * APPLIED when nothing conflicted, RESOLVED when a strategy or a person decided (both terminal
   * once applied); PARTIAL for the unconflicted attributes of a mutation whose conflict is open
   * (its terminal status comes with the resolution).
   */
  status: 'APPLIED' | 'RESOLVED' | 'PARTIAL';
  version: number;
  changes: Record<string, unknown>;
  deleted: boolean;
}

/** What `open-conflicts` keeps: the conflict and the mutation it holds back. */
export interface StoredConflict extends OpenConflict {
  mutation: Mutation;
}

/** `mutation-status`'s record. */
export interface MutationStatus {
  mutation_id: string;
  status: 'APPLIED' | 'CONFLICT' | 'RESOLVED' | 'REJECTED' | 'DUPLICATE' | 'FAILED';
  reason?: string;
}

export interface DetectConflictsRoutes {
  applied: string;
  statuses: string;
  conflicts: string;
}

/**
 * The processor of the `detectConflicts` operator: decides each mutation against its entity's
 * state (store `entities`, by record key) with the strategy, keeps manual conflicts in
 * `openConflicts` (by mutation id) until a resolution for them arrives on the same key, and routes
 * what applies, the statuses (CONFLICT when a conflict opens, REJECTED), and the opened conflicts.
 */
export function conflictDetector(entities: string, openConflicts: string, strategy: Strategy, routes: DetectConflictsRoutes): ProcessorSupplier<unknown, Mutation | Resolution> {
  return ({ stores, children, context }) => {
    const state = stores.get<unknown, EntityState>(entities);
    const open = stores.get<string, StoredConflict>(openConflicts);
    const applied = children.get(routes.applied)!;
    const statuses = children.get(routes.statuses)!;
    const conflicts = children.get(routes.conflicts)!;
    const write = () => ({ timestamp: context.timestamp, headers: context.headers });
    const settle = (key: unknown, mutation: Mutation, decision: Decision, resolved: boolean) => {
      if (decision.outcome === 'rejected') {
        statuses(key, { mutation_id: mutation.id, status: 'REJECTED', reason: decision.reason } satisfies MutationStatus);
        return;
      }
      state.put(key, decision.entity, write());
      let status: EffectiveMutation['status'] = decision.outcome === 'applied' && !resolved ? 'APPLIED' : 'RESOLVED';
      if (decision.outcome === 'conflict') {
        const stored: StoredConflict = { ...decision.open, mutation };
        open.put(mutation.id, stored, write());
        conflicts(key, stored);
        statuses(key, { mutation_id: mutation.id, status: 'CONFLICT', reason: `attributes ${decision.open.conflicts.map((c) => c.attribute).join(', ')} changed since base version ${mutation.base_version}` } satisfies MutationStatus);
        if (Object.keys(decision.changes).length === 0) return;
        status = 'PARTIAL';
      }
      applied(key, { mutation, status, version: decision.entity.version, changes: decision.changes, deleted: decision.deleted } satisfies EffectiveMutation);
    };
    return (key, value) => {
      if (isResolution(value)) {
        const conflict = open.get(value.mutation_id);
        if (!conflict) {
          statuses(key, { mutation_id: value.mutation_id, status: 'REJECTED', reason: 'no open conflict has this mutation id (resolved already, or never opened)' } satisfies MutationStatus);
          return;
        }
        const entity = state.get(key) ?? NEW_ENTITY;
        const decision = resolve(entity, conflict, value.choices, { timestamp: value.timestamp, mutation: `resolution:${value.mutation_id}`, priority: 10 });
        open.delete(value.mutation_id, write());
        settle(key, conflict.mutation, decision, true);
        return;
      }
      settle(key, value, decide(state.get(key) ?? NEW_ENTITY, value, strategy), false);
    };
  };
}

function isResolution(value: Mutation | Resolution): value is Resolution {
  return typeof value === 'object' && value !== null && 'choices' in value && 'mutation_id' in value && !('operation_type' in value);
}
