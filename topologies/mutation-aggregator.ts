/**
 * Mutation aggregator: the central service of an edge-sync system, as a topology (its contract:
 * docs/scenarios.md, "Mutation aggregator").
 * Mutations from edge nodes (`mutations`, keyed `entity_type:entity_id`) go through
 *
 *   validate → dedupe → detectConflicts → prioritize → batch → PostgreSQL (`entities`)
 *
 * and every mutation gets its terminal status on `mutation-status`: DUPLICATE (its id was
 * seen), REJECTED (impossible: an update of a missing entity, a base version ahead), CONFLICT
 * (left for a person with the manual strategy; its resolution on `mutation-resolutions` later
 * brings RESOLVED), APPLIED or RESOLVED once its batch's database transaction committed, or
 * FAILED (its batch failed for good, or a mutation it depends on never came). Records that are
 * not mutations, failed batches and mutations with missing dependencies also go to
 * `mutations-dead-letter` with their original bytes. Open conflicts are kept in the
 * `open-conflicts` store (mutation id → the conflict) and published on `mutation-conflicts`.
 *
 * The strategy is last-writer-wins per attribute unless `MUTATION_STRATEGY` names another
 * (first-writer-wins, priority, merge, manual). Run it exactly-once: statuses and the database
 * then agree whatever crashes.
 */
import { defineApplication, Serdes, toPostgres, type Batch, type Stream, type StreamsBuilder } from 'sluice';
import { detectConflicts, mutationDependencies, mutationId, mutationPriority, type EffectiveMutation, type Mutation, type MutationStatus, type Resolution, type Strategy } from 'sluice/mutations';
import { ENTITIES_DDL, toMutation, writeBatch } from './lib/mutations.ts';

export interface MutationTopics {
  input: string;
  statuses: string;
  conflicts: string;
  resolutions: string;
  deadLetter: string;
}

/** The contract's topics; `MUTATION_TOPIC_PREFIX` prefixes them all for a deployment (or a test). */
export function mutationTopics(prefix = ''): MutationTopics {
  return {
    input: `${prefix}mutations`,
    statuses: `${prefix}mutation-status`,
    conflicts: `${prefix}mutation-conflicts`,
    resolutions: `${prefix}mutation-resolutions`,
    deadLetter: `${prefix}mutations-dead-letter`,
  };
}

export const MUTATION_TOPICS: MutationTopics = mutationTopics(process.env.MUTATION_TOPIC_PREFIX ?? '');
export const OPEN_CONFLICTS_STORE = 'open-conflicts';

export interface AggregatorSettings {
  strategy: Strategy;
  /** How long a mutation id is remembered for deduplication (stream time). */
  dedupeTtlMs: number;
  /** Prioritisation: the window over which mutations are ranked, and the most held at once. */
  windowMs: number;
  maxBuffered: number;
  /** Batching into database transactions. */
  maxBatchSize: number;
  lingerMs: number;
  /** How long a mutation waits for those it depends on. */
  dependencyTimeoutMs: number;
  criticalEntities: string[];
  importantEntities: string[];
  /** The database of the `entities` table; default DATABASE_URL. */
  databaseUrl?: string;
  /** Told of each batch right after its database transaction committed (metrics: latency, batch sizes). */
  onCommitted?: (batch: Batch<string, EffectiveMutation>) => void;
}

export const DEFAULT_SETTINGS: AggregatorSettings = {
  strategy: (process.env.MUTATION_STRATEGY as Strategy | undefined) ?? 'last-writer-wins',
  dedupeTtlMs: 7 * 24 * 3600_000,
  // Short windows: each holds mutations back, and latency adds up over both and the commits.
  windowMs: 20,
  maxBuffered: 20_000,
  maxBatchSize: 500,
  lingerMs: 20,
  dependencyTimeoutMs: Number(process.env.MUTATION_DEPENDENCY_TIMEOUT_MS ?? 30_000),
  criticalEntities: ['order', 'payment'],
  importantEntities: ['customer', 'inventory'],
};

const status = (mutation_id: string, value: MutationStatus['status'], reason?: string): MutationStatus => ({ mutation_id, status: value, ...(reason ? { reason } : {}) });

/** The terminal statuses of a batch's mutations once its transaction committed (PARTIAL ones wait for their resolution). */
function committedStatuses(batch: Batch<string, EffectiveMutation>): Array<readonly [string, MutationStatus]> {
  return batch.records.filter((r) => r.value.status !== 'PARTIAL').map((r) => [r.key, status(r.value.mutation.id, r.value.status === 'APPLIED' ? 'APPLIED' : 'RESOLVED')] as const);
}

export function mutationAggregator(builder: StreamsBuilder, topics: MutationTopics = MUTATION_TOPICS, settings: AggregatorSettings = DEFAULT_SETTINGS): void {
  const deadLetter = { deadLetterTopic: topics.deadLetter };
  const toStatuses = (stream: Stream<string, MutationStatus>) => stream.to(topics.statuses, { value: Serdes.json() });

  const mutations = builder
    .stream<string, Buffer>(topics.input, { name: 'mutations', value: Serdes.bytes() })
    .mapValues((raw, key) => toMutation(key, raw), { name: 'validate', onError: deadLetter })
    .dedupe({
      name: 'dedupe',
      store: 'mutation-ids',
      id: (_, m) => m.id,
      ttlMs: settings.dedupeTtlMs,
      onDuplicate: (duplicates) => toStatuses(duplicates.mapValues((m) => status(m.id, 'DUPLICATE', 'this mutation id was already received'), { name: 'duplicate-status' })),
    });

  const resolutions = builder.stream<string, Resolution>(topics.resolutions, { name: 'resolutions', value: Serdes.json() });
  const decided = mutations.via(detectConflicts({ name: 'conflicts', entities: 'mutation-entities', openConflicts: OPEN_CONFLICTS_STORE, strategy: settings.strategy, resolutions }));
  toStatuses(decided.statuses);
  decided.conflicts.to(topics.conflicts, { value: Serdes.json() });

  const priority = mutationPriority({ criticalEntities: settings.criticalEntities, importantEntities: settings.importantEntities });
  const batches = decided.applied
    .prioritize({ name: 'prioritize', store: 'mutation-queue', maxBuffered: settings.maxBuffered, windowMs: settings.windowMs, priority: (key, m, age, now) => priority(key, m.mutation, age, now) })
    .batch({
      name: 'batch',
      store: 'mutation-batches',
      maxSize: settings.maxBatchSize,
      lingerMs: settings.lingerMs,
      // Batches go out at least once a commit anyway (the linger is shorter than the interval):
      // closing the open one at the commit keeps its records out of the changelog.
      closeOnCommit: true,
      id: (m) => mutationId(m.mutation),
      dependsOn: (m) => mutationDependencies(m.mutation),
      releasedTtlMs: settings.dedupeTtlMs,
      dependencyTimeoutMs: settings.dependencyTimeoutMs,
      onMissingDependency: (missing) => {
        toStatuses(missing.mapValues((m) => status(m.mutation.id, 'FAILED', `a mutation it depends on did not arrive within ${settings.dependencyTimeoutMs} ms`), { name: 'missing-dependency-status' }));
        missing.to(topics.deadLetter, { name: 'missing-dependency-dead-letter', value: Serdes.json<EffectiveMutation>() });
      },
    });

  const entities = toPostgres<string, Batch<string, EffectiveMutation>>({
    connectionString: settings.databaseUrl,
    setup: async (tx) => void (await tx.query(ENTITIES_DDL)),
    write: (tx, _key, batch) => writeBatch(tx, batch),
    onWritten: settings.onCommitted && ((_key, batch) => settings.onCommitted!(batch)),
  });
  const { applied, failed } = batches.sink(entities, { name: 'entities', onError: deadLetter });
  toStatuses(applied.flatMap((_, batch) => committedStatuses(batch), { name: 'applied-statuses' }));
  toStatuses(
    failed.flatMap((_, f) => f.value.records.map((r) => [r.key, status(r.value.mutation.id, 'FAILED', `its batch failed: ${f.error}`)] as const), { name: 'failed-statuses' }),
  );
}

export type { Mutation };

export default defineApplication({
  applicationId: 'mutation-aggregator',
  guarantee: 'exactly_once',
  keySerde: Serdes.string(),
  valueSerde: Serdes.json(),
  onProcessingError: { deadLetterTopic: MUTATION_TOPICS.deadLetter },
  topology: (builder) => mutationAggregator(builder),
});
