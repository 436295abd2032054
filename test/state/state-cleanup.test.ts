// Cleaning up the local state of tasks no longer run here (state.cleanup.delay.ms): only task
// directories that nothing wrote for the delay and no one holds go, whatever else lies beside them.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { removeUnusedState } from '../../engine/runtime/state-cleanup.ts';
import { TaskDirectory } from '../../state/task-directory.ts';
import { tempStateDir } from '../helpers/state.ts';

/** Sets the modification time of a directory and everything under it. */
function age(target: string, mtime: Date): void {
  for (const entry of fs.readdirSync(target, { withFileTypes: true })) {
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) age(full, mtime);
    else fs.utimesSync(full, mtime, mtime);
  }
  fs.utimesSync(target, mtime, mtime);
}

describe('removing unused local state', () => {
  it('removes task directories unused for the delay and not held, and leaves the rest', async () => {
    const stateDir = tempStateDir();
    const root = path.join(stateDir, 'app');
    const make = (name: string) => {
      fs.mkdirSync(path.join(root, name, 'counts'), { recursive: true });
      fs.writeFileSync(path.join(root, name, 'counts', 'CURRENT'), 'x');
      fs.writeFileSync(path.join(root, name, '.checkpoint'), '{}');
    };
    for (const name of ['0_1', '0_2', '0_3', '1_1', 'global-users']) make(name);
    const held = new TaskDirectory(stateDir, 'app', '0_2');
    await held.acquire();
    const now = Date.now();
    const old = new Date(now - 20 * 60_000);
    for (const name of ['0_1', '0_2', '1_1', 'global-users']) age(path.join(root, name), old);
    // 1_1 is old but one of its stores was written a minute ago.
    fs.utimesSync(path.join(root, '1_1', 'counts', 'CURRENT'), new Date(now - 60_000), new Date(now - 60_000));
    try {
      expect(await removeUnusedState(stateDir, 'app', 10 * 60_000, now)).to.deep.equal(['0_1']);
      expect(fs.readdirSync(root).sort()).to.deep.equal(['0_2', '0_3', '1_1', 'global-users']);
    } finally {
      await held.release();
    }
    // Once let go, and past the delay, it goes too.
    age(path.join(root, '0_2'), old);
    expect(await removeUnusedState(stateDir, 'app', 10 * 60_000, now)).to.deep.equal(['0_2']);
  });
});
