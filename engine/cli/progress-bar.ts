import type { RestoreProgress } from '../runtime/task/restore.ts';

const WIDTH = 30;

/** One line of restoration progress: a bar, the share done, records, rate and time left. */
export function formatRestoreProgress(p: RestoreProgress): string {
  const share = p.total === 0 ? 1 : Math.min(p.restored / p.total, 1);
  const filled = Math.round(share * WIDTH);
  const bar = '#'.repeat(filled) + '-'.repeat(WIDTH - filled);
  const count = (n: number) => n.toLocaleString('en-US');
  const tail = p.done ? 'done' : `ETA ${p.etaSeconds}s`;
  const tasks = `${p.tasks.length} task${p.tasks.length === 1 ? '' : 's'}`;
  return `restoring ${tasks} [${bar}] ${String(Math.floor(share * 100)).padStart(3)}% ${count(p.restored)}/${count(p.total)} records, ${count(p.recordsPerSec)}/s, ${tail}`;
}

/**
 * Shows restoration progress as a bar redrawn in place on a terminal. Elsewhere (a file, a
 * pipe) it writes nothing: the JSON logs carry the same progress.
 */
export function restoreProgressBar(stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>): (progress: RestoreProgress) => void {
  if (!stream.isTTY) return () => {};
  return (progress) => {
    stream.write(`\r${formatRestoreProgress(progress)}\x1b[K${progress.done ? '\n' : ''}`);
  };
}
