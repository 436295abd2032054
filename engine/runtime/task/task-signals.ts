import { findStoreCorruption, type StoreCorruptedError } from '../../../state/leveldb/store-errors.ts';

/**
 * Thrown through a task when one of its stores is found damaged (a read, a write or a scan
 * failed with corruption), whatever operator was asking: not the operator's fault, and not the
 * record's. The processing loop takes every task back to the last commit, with this task's
 * stores wiped and restored from their changelogs.
 */
export class TaskCorrupted extends Error {
  readonly taskId: string;
  readonly corruption: StoreCorruptedError;

  constructor(taskId: string, corruption: StoreCorruptedError) {
    super(`Task ${taskId}: ${corruption.message}`, { cause: corruption });
    this.name = 'TaskCorrupted';
    this.taskId = taskId;
    this.corruption = corruption;
  }
}

/** `err` as a {@link TaskCorrupted} of task `taskId` when store damage caused it; undefined otherwise. */
export function asTaskCorrupted(taskId: string, err: unknown): TaskCorrupted | undefined {
  if (err instanceof TaskCorrupted) return err;
  const corruption = findStoreCorruption(err);
  return corruption ? new TaskCorrupted(taskId, corruption) : undefined;
}

/** Runs `step` of task `taskId`, turning store damage into {@link TaskCorrupted}. */
export async function detectingCorruption<T>(taskId: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw asTaskCorrupted(taskId, err) ?? err;
  }
}

/**
 * Thrown through a task when an update its stores pass on at a commit (the write-back cache's
 * flush) cannot be written: it does not serialize, or its changelog or an output downstream
 * refuses it (too large). No record is in hand to blame, since the update may sum many: the
 * processing loop takes every task back to the last commit and processes the records again
 * with this task's caches passing each write on at once, so the failure happens again inside
 * the record that causes it, where that record's error handling applies.
 */
export class FlushFailed extends Error {
  readonly taskId: string;

  constructor(taskId: string, cause: unknown) {
    super(`Task ${taskId}: an update passed on at the commit could not be written: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'FlushFailed';
    this.taskId = taskId;
  }
}
