import fs from 'node:fs';
import { ClassicLevel } from 'classic-level';

/**
 * An exclusive lock on a folder, held by the operating system for this process: LevelDB locks
 * its `LOCK` file with `fcntl`, so the lock is released the moment the process ends, however it
 * ends, and two processes can never both hold it (no pid to trust, no stale file to take over).
 * The folder holds an empty LevelDB and nothing else.
 */
export class FileLock {
  private constructor(private readonly db: ClassicLevel<Buffer, Buffer>) {}

  /** Takes the lock, or returns undefined at once when another process (or this one) holds it. */
  static async tryAcquire(folder: string): Promise<FileLock | undefined> {
    // A plain file left at the folder's place (an older lock) is not a lock: remove it.
    if (fs.statSync(folder, { throwIfNoEntry: false })?.isFile()) fs.rmSync(folder, { force: true });
    fs.mkdirSync(folder, { recursive: true });
    const db = new ClassicLevel<Buffer, Buffer>(folder, { keyEncoding: 'buffer', valueEncoding: 'buffer', cacheSize: 0, writeBufferSize: 4096 });
    try {
      await db.open({ createIfMissing: true });
    } catch (err) {
      if (isLocked(err)) return undefined;
      throw err;
    }
    return new FileLock(db);
  }

  release(): Promise<void> {
    return this.db.close();
  }
}

function isLocked(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 'LEVEL_LOCKED') return true;
    if (/\block\b/i.test(e.message) && /(held|unavailable|in use)/i.test(e.message)) return true;
  }
  return false;
}
