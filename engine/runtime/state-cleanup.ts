import fs from 'node:fs';
import path from 'node:path';
import { describeCause } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { TaskDirectory } from '../../state/task-directory.ts';

/** A task's directory name: `<sub-topology>_<partition>`. */
const TASK_DIRECTORY = /^\d+_\d+$/;

/**
 * Deletes the state of tasks this machine no longer runs, as Kafka Streams'
 * `state.cleanup.delay.ms` does: a task's directory (`<state-dir>/<application.id>/<task>`) that
 * nothing has written for `delayMs` and no process holds (each task's directory is locked by the
 * task, standby or warm-up copy that uses it, in whatever process or stream thread) is removed.
 * A task that comes back within the delay restores only its changelog's tail; after it, its whole
 * changelog. Returns the tasks whose state was removed.
 */
export async function removeUnusedState(stateDir: string, applicationId: string, delayMs: number, now = Date.now()): Promise<string[]> {
  const root = path.join(stateDir, applicationId);
  const removed: string[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !TASK_DIRECTORY.test(entry.name)) continue;
    if (now - lastWritten(path.join(root, entry.name)) < delayMs) continue;
    const directory = new TaskDirectory(stateDir, applicationId, entry.name);
    try {
      await directory.acquire(0);
    } catch {
      continue; // in use
    }
    try {
      fs.rmSync(directory.path, { recursive: true, force: true });
      removed.push(entry.name);
    } finally {
      await directory.release().catch(() => undefined);
    }
  }
  return removed;
}

/** The newest modification time of a task directory's files, one level of stores deep; now when they change under the look. */
function lastWritten(directory: string): number {
  try {
    return newestIn(directory);
  } catch {
    return Date.now();
  }
}

function newestIn(directory: string): number {
  let newest = fs.statSync(directory).mtimeMs;
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    newest = Math.max(newest, fs.statSync(full).mtimeMs);
    if (entry.isDirectory()) for (const file of fs.readdirSync(full)) newest = Math.max(newest, fs.statSync(path.join(full, file), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  }
  return newest;
}

/** Runs {@link removeUnusedState} every `delayMs / 2` (at least every minute) until stopped. */
export function cleanUpStatePeriodically(stateDir: string, applicationId: string, delayMs: number, log: Logger): { stop(): void } {
  const timer = setInterval(
    () => {
      if (!fs.existsSync(path.join(stateDir, applicationId))) return;
      removeUnusedState(stateDir, applicationId, delayMs)
        .then((removed) => {
          if (removed.length > 0) log.info({ tasks: removed, unusedForMs: delayMs }, 'removed the local state of tasks no longer run here');
        })
        .catch((err) => log.warn({ err: describeCause(err) }, 'could not clean up unused local state'));
    },
    Math.min(Math.max(delayMs / 2, 1_000), 60_000),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
