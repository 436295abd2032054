import fs from 'node:fs';
import path from 'node:path';

/** Changelog positions of a task's stores: `topic` → `partition` → the next offset to restore. */
export type Checkpoint = Record<string, Record<string, number>>;

const FILE = '.checkpoint';

/** Reads the task's checkpoint; a missing or unreadable file reads as no checkpoint. */
export function readCheckpoint(taskDir: string): Checkpoint | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(taskDir, FILE), 'utf8'));
    return parsed && parsed.version === 1 && typeof parsed.offsets === 'object' ? (parsed.offsets as Checkpoint) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the checkpoint atomically (a temporary file renamed over the old one). */
export function writeCheckpoint(taskDir: string, offsets: Checkpoint): void {
  const file = path.join(taskDir, FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify({ version: 1, offsets }));
  fs.renameSync(temporary, file);
}

/** Removes the checkpoint: the stores must be restored from scratch next time. */
export function deleteCheckpoint(taskDir: string): void {
  fs.rmSync(path.join(taskDir, FILE), { force: true });
}
