// topologies/ holds deployable topology files only (their helpers and generators live in
// topologies/lib/), so `sluice describe topologies/*.ts` and `sluice run topologies/<file>` work
// for every file a shell glob gives.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'sluice.js');

/** What `topologies/*.ts` expands to. */
const files = fs
  .readdirSync(path.join(ROOT, 'topologies'), { withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
  .map((entry) => `topologies/${entry.name}`)
  .sort();

describe('topologies/*.ts: every file is a deployable topology', function () {
  this.timeout(60_000);

  it('holds the five scenarios', () => {
    expect(files).to.include.members([
      'topologies/event-analytics.ts',
      'topologies/media-lifecycle.ts',
      'topologies/mutation-aggregator.ts',
      'topologies/post-search.ts',
      'topologies/user-projection.ts',
    ]);
  });

  for (const file of files) {
    it(`sluice describe ${file}`, () => {
      const result = spawnSync(process.execPath, [CLI, 'describe', file, '--format', 'json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(result.status, result.stderr).to.equal(0);
      const description = JSON.parse(result.stdout) as { applicationId: string; subtopologies: unknown[] };
      expect(description.applicationId).to.be.a('string').and.not.equal('');
      expect(description.subtopologies).to.have.length.above(0);
    });
  }
});
