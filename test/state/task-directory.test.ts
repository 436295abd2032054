// The state directory's lock is the operating system's: held while its process lives, gone the
// moment it dies, never decided by a pid written in a file.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { TaskDirectory, TaskDirectoryLockedError } from '../../state/task-directory.ts';
import { tempStateDir } from '../helpers/state.ts';

const HOLDER = path.join(import.meta.dirname, '../fixtures/hold-task-directory.ts');

/** Starts a process that takes the lock; resolves with it and what it said ("held" or "locked"). */
function holder(stateDir: string, task: string): Promise<{ child: ChildProcess; said: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, stateDir, task], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      if (out.includes('\n')) resolve({ child, said: out.trim() });
    });
    child.on('error', reject);
    child.on('exit', (code) => (out.includes('\n') ? undefined : reject(new Error(`holder exited with ${code} before saying anything`))));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('task directory lock', function () {
  this.timeout(30_000);

  it('ignores a lock file of an older kind naming a live, unrelated process', async () => {
    const stateDir = tempStateDir();
    const sleeper = spawn('sleep', ['30']);
    try {
      const dir = path.join(stateDir, 'app', '0_0');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, '.lock'), String(sleeper.pid));
      const directory = new TaskDirectory(stateDir, 'app', '0_0');
      const started = Date.now();
      await directory.acquire(0);
      expect(Date.now() - started).to.be.lessThan(2_000);
      await directory.release();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('refuses a directory another live process holds, and takes it the moment that process is killed', async () => {
    const stateDir = tempStateDir();
    const { child, said } = await holder(stateDir, '0_1');
    try {
      expect(said).to.equal('held');
      const directory = new TaskDirectory(stateDir, 'app', '0_1');
      let refused: unknown;
      await directory.acquire(300).catch((err) => (refused = err));
      expect(refused).to.be.instanceOf(TaskDirectoryLockedError);
      await killed(child);
      const started = Date.now();
      await directory.acquire(5_000);
      expect(Date.now() - started).to.be.lessThan(1_000);
      await directory.release();
    } finally {
      await killed(child);
    }
  });

  it('gives the directory to exactly one of several processes racing for it', async () => {
    const stateDir = tempStateDir();
    const racers = await Promise.all(Array.from({ length: 4 }, () => holder(stateDir, '1_0')));
    try {
      const said = racers.map((r) => r.said).sort();
      expect(said).to.deep.equal(['held', 'locked', 'locked', 'locked']);
    } finally {
      await Promise.all(racers.map((r) => killed(r.child)));
    }
  });

  it('lets the same process take it again once released, and refuses a second holder in the same process', async () => {
    const stateDir = tempStateDir();
    const first = new TaskDirectory(stateDir, 'app', '2_0');
    const second = new TaskDirectory(stateDir, 'app', '2_0');
    await first.acquire(0);
    let refused: unknown;
    await second.acquire(0).catch((err) => (refused = err));
    expect(refused).to.be.instanceOf(TaskDirectoryLockedError);
    await first.release();
    await second.acquire(0);
    await second.release();
  });
});
