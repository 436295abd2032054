import type { ConsumedRecord, RecordHeader } from '../../kafka/records.ts';
import type { RecordContext } from '../../processors/processor.ts';

/**
 * A task's phases: created (nothing open), restoring (stores open, being brought up to their
 * changelogs), running (records flow), suspended (kept, with its stores open, while a
 * rebalance decides whether it stays: for tasks that outlive a rebalance), closed.
 */
export type TaskPhase = 'created' | 'restoring' | 'running' | 'suspended' | 'closed';

export const TASK_TRANSITIONS: Record<TaskPhase, readonly TaskPhase[]> = {
  created: ['restoring', 'closed'],
  restoring: ['running', 'closed'],
  running: ['suspended', 'closed'],
  suspended: ['running', 'closed'],
  closed: [],
};

/** The record context, writable by the task that owns it. */
export interface TaskRecordContext extends RecordContext {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  headers: RecordHeader[] | undefined;
}

/** One source topic-partition of a task and how far it has been processed. */
export interface Input {
  readonly topic: string;
  readonly run: (raw: ConsumedRecord) => void;
  /** What the source's serdes must fetch before they can read this record, if anything. */
  readonly prefetch: ((raw: ConsumedRecord) => Promise<unknown> | undefined) | undefined;
  next: number; // after the last record processed; -1 before the first
  committed: number;
}

