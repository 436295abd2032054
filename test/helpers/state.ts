import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LevelDbStore } from '../../state/leveldb/level-store.ts';
import { readAll } from './kafka.ts';

export function tempStateDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-state-test-'));
}

/** Every key → value of a store across the tasks in a state directory (the application must be stopped). */
export async function readStoreFromDisk(stateDir: string, applicationId: string, store: string, valueEncoding: BufferEncoding = 'utf8'): Promise<Map<string, string>> {
  const contents = new Map<string, string>();
  const root = path.join(stateDir, applicationId);
  if (!fs.existsSync(root)) return contents;
  for (const task of fs.readdirSync(root)) {
    const location = path.join(root, task, store);
    if (!fs.existsSync(location)) continue;
    const db = await LevelDbStore.open(store, location);
    try {
      for await (const [key, value] of db.range()) contents.set(key.toString(), value.toString(valueEncoding));
    } finally {
      await db.close();
    }
  }
  return contents;
}

/** The latest value per key in a changelog topic (what compaction keeps); deletions removed. */
export async function readChangelog(topic: string): Promise<Map<string, string>> {
  const latest = new Map<string, string>();
  for (const record of await readAll(topic)) {
    const key = record.key!.toString();
    if (record.value === null) latest.delete(key);
    else latest.set(key, record.value.toString());
  }
  return latest;
}

/** Reads a checkpoint file of a task. */
export function readCheckpointFile(stateDir: string, applicationId: string, task: string): Record<string, Record<string, number>> | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(stateDir, applicationId, task, '.checkpoint'), 'utf8')).offsets;
  } catch {
    return undefined;
  }
}

/**
 * Waits until a store's changelog holds `count` live entries over all its partitions (written and
 * not deleted since). Tasks may use the same keys, so entries are told apart by partition and key.
 */
export async function waitForChangelogEntries(changelog: string, count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const live = new Set<string>();
    for (const record of await readAll(changelog).catch(() => [])) {
      const id = `${record.partition}/${record.key!.toString('hex')}`;
      if (record.value === null) live.delete(id);
      else live.add(id);
    }
    if (live.size >= count) return;
    if (Date.now() > deadline) throw new Error(`${changelog} never held ${count} records (it holds ${live.size})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
