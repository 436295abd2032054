import fs from 'node:fs';
import path from 'node:path';

/** Another live process holds the task's directory. */
export class TaskDirectoryLockedError extends Error {
  readonly holder: number;

  constructor(directory: string, holder: number) {
    super(`State directory ${directory} is in use by process ${holder}; two instances must not share a task's state.`);
    this.holder = holder;
  }
}

/**
 * A task's state directory, `<state-dir>/<application.id>/<task>`, locked for one process: a
 * lock file holds the owner's pid, and a lock left by a dead process is taken over.
 */
export class TaskDirectory {
  readonly path: string;
  private readonly lockFile: string;
  private locked = false;

  constructor(stateDir: string, applicationId: string, taskId: string) {
    this.path = path.join(stateDir, applicationId, taskId);
    this.lockFile = path.join(this.path, '.lock');
  }

  /** Takes the lock or throws {@link TaskDirectoryLockedError}. */
  lock(): void {
    fs.mkdirSync(this.path, { recursive: true });
    for (;;) {
      try {
        fs.writeFileSync(this.lockFile, String(process.pid), { flag: 'wx' });
        this.locked = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number(fs.readFileSync(this.lockFile, 'utf8').trim() || 0);
      if (holder === process.pid || !alive(holder)) {
        fs.rmSync(this.lockFile, { force: true });
        continue;
      }
      throw new TaskDirectoryLockedError(this.path, holder);
    }
  }

  unlock(): void {
    if (this.locked) fs.rmSync(this.lockFile, { force: true });
    this.locked = false;
  }

  storePath(store: string): string {
    return path.join(this.path, store);
  }
}

function alive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
