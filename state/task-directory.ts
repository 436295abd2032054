import path from 'node:path';
import { FileLock } from './leveldb/file-lock.ts';
import { SluiceError } from './sluice-error.ts';

/** Another process, or another task object of this one, holds the task's directory. */
export class TaskDirectoryLockedError extends SluiceError {
  constructor(directory: string) {
    super('SLUICE_STATE_LOCKED', `State directory ${directory} is in use by another instance; two instances must not share a task's state (give each its own --state-dir).`);
  }
}

/**
 * A task's state directory, `<state-dir>/<application.id>/<task>`, locked for one process with
 * an operating-system lock (see {@link FileLock}): released when the holder closes it or dies.
 */
export class TaskDirectory {
  readonly path: string;
  private lock: FileLock | undefined;

  constructor(stateDir: string, applicationId: string, taskId: string) {
    this.path = path.join(stateDir, applicationId, taskId);
  }

  /** Takes the lock, waiting up to `timeoutMs` for its holder to let go; throws {@link TaskDirectoryLockedError}. */
  async acquire(timeoutMs = 0): Promise<void> {
    if (this.lock) return;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.lock = await FileLock.tryAcquire(path.join(this.path, '.lock'));
      if (this.lock) return;
      if (Date.now() >= deadline) throw new TaskDirectoryLockedError(this.path);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async release(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release();
  }

  storePath(store: string): string {
    return path.join(this.path, store);
  }
}
