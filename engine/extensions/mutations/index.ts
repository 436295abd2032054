// `sluice/mutations`: the mutation aggregator's pieces as an extension of the engine. Its
// conflict model, the `detectConflicts` operator (applied with `stream.via`) and the query route
// that takes resolutions, and its ranking and dependency functions for `prioritize` and `batch`.
// It imports the engine; the engine never imports it.
export { detectConflicts, type DetectConflictsOptions, type DetectedConflicts } from './detect-conflicts.ts';
export type { EffectiveMutation, MutationStatus, Resolution, StoredConflict } from './conflict-detector.ts';
export {
  decide,
  resolve,
  NEW_ENTITY,
  type AttributeConflict,
  type AttributeState,
  type Choice,
  type Decision,
  type EntityState,
  type Mutation,
  type OpenConflict,
  type OperationType,
  type Strategy,
} from './conflicts.ts';
export { mutationPriority, mutationId, mutationDependencies, type MutationPriorityOptions } from './priority.ts';
export type { ResolutionRequest } from './resolutions.ts';
