import fs from 'node:fs';

/**
 * Process control for the local development services (the Kafka broker, the schema registry,
 * PostgreSQL): they outlive the command that started them, so they are found again by pid, told
 * apart from a reused pid by their command line, and started under a lock so two commands never
 * race.
 */

/** True when `pid` is alive and its command line contains `marker` (not a reused pid). */
export function isProcessOf(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return true; // No /proc (macOS): trust the signal.
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Waits until the process is gone; false if it still runs after `timeoutMs`. */
export async function waitForExit(pid: number, marker: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessOf(pid, marker)) return true;
    await sleep(100);
  }
  return !isProcessOf(pid, marker);
}

/** SIGTERM, then SIGKILL if it is still there after `timeoutMs`. */
export async function stopProcess(pid: number, marker: string, timeoutMs: number, onKill: () => void = () => {}): Promise<void> {
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, marker, timeoutMs)) return;
  onKill();
  signal(pid, 'SIGKILL');
  await waitForExit(pid, marker, 5_000);
}

/**
 * An exclusive lock file across processes; a lock left by a dead process is taken over. Past
 * `timeoutMs`, throws what `stuck(holder)` makes.
 */
export async function acquireLock(file: string, stuck: (holder: number) => Error, timeoutMs = 300_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  // The lock file appears with its holder's pid already in it (a link to a file written first),
  // so no one ever reads an empty lock and mistakes it for a stale one.
  const mine = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  fs.writeFileSync(mine, String(process.pid));
  try {
    for (;;) {
      try {
        fs.linkSync(mine, file);
        return () => fs.rmSync(file, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let holder = 0;
      try {
        holder = Number(fs.readFileSync(file, 'utf8').trim() || 0);
      } catch {
        continue; // Released meanwhile.
      }
      if (!holder || !isAlive(holder)) {
        // Stale: take it over only if it is still the same file (another process may have done so).
        try {
          if (Number(fs.readFileSync(file, 'utf8').trim() || 0) === holder) fs.rmSync(file, { force: true });
        } catch {
          // Gone already.
        }
        continue;
      }
      if (Date.now() > deadline) throw stuck(holder);
      await sleep(250);
    }
  } finally {
    fs.rmSync(mine, { force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
