// The compiled engine (bin/engine-build.js): `sluice` starts from dist/ only while it matches the
// sources (any source changed, added, removed or renamed makes it stale), and a topology file's
// `sluice` import then is that same compiled engine, extensions included.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { build, freshBuild, sourcesDigest } from '../../bin/engine-build.js';
import { CLI, ROOT } from '../helpers/cli.ts';

/** `node <cli> …args`, with `env` added to this process's environment. */
const run = (cli: string, args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env } });

/** A package of its own: two sources and a build record of them. */
function packageWithBuild(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-build-'));
  fs.mkdirSync(path.join(root, 'engine', 'cli'), { recursive: true });
  fs.mkdirSync(path.join(root, 'state'));
  fs.writeFileSync(path.join(root, 'engine', 'cli', 'main.ts'), 'export const a = 1;\n');
  fs.writeFileSync(path.join(root, 'state', 'store.ts'), 'export const b = 2;\n');
  fs.mkdirSync(path.join(root, 'dist'));
  fs.writeFileSync(path.join(root, 'dist', 'build-info.json'), JSON.stringify({ sources: sourcesDigest(root) }));
  return root;
}

describe('the compiled engine', function () {
  this.timeout(120_000);

  it('is used only while it matches the sources', () => {
    const changes: Array<[string, (root: string) => void]> = [
      ['a source changed', (root) => fs.writeFileSync(path.join(root, 'state', 'store.ts'), 'export const b = 3;\n')],
      ['a source added', (root) => fs.writeFileSync(path.join(root, 'engine', 'cli', 'more.ts'), '\n')],
      ['a source removed', (root) => fs.rmSync(path.join(root, 'state', 'store.ts'))],
      ['a source renamed', (root) => fs.renameSync(path.join(root, 'state', 'store.ts'), path.join(root, 'state', 'stores.ts'))],
    ];
    for (const [what, change] of changes) {
      const root = packageWithBuild();
      expect(freshBuild(root), `before: ${what}`).to.equal(path.join(root, 'dist'));
      change(root);
      expect(freshBuild(root), what).to.equal(undefined);
    }
    // Files that are not sources (the console's pages) do not make it stale: they are read from the sources.
    const root = packageWithBuild();
    fs.writeFileSync(path.join(root, 'engine', 'page.js'), '\n');
    expect(freshBuild(root)).to.equal(path.join(root, 'dist'));
  });

  it('runs topology files with one engine, extensions included, and refuses SLUICE_ENGINE=compiled without a matching build', () => {
    if (freshBuild(ROOT) === undefined) build(ROOT);
    for (const file of ['test/fixtures/topologies/counter.ts', 'topologies/mutation-aggregator.ts']) {
      const described = run(CLI, ['describe', file, '--format', 'json'], { SLUICE_ENGINE: 'compiled' });
      expect(described.status, described.stderr).to.equal(0);
      expect(JSON.parse(described.stdout).subtopologies.length).to.be.at.least(1);
    }
    // The import the topology file makes resolves into the build, not to the sources.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-which-'));
    const file = path.join(dir, 'which.ts');
    fs.writeFileSync(
      file,
      `import { defineApplication, Serdes } from 'sluice';\nprocess.stderr.write('sluice is ' + import.meta.resolve('sluice') + '\\n');\n` +
        `export default defineApplication({ applicationId: 'which', keySerde: Serdes.string(), valueSerde: Serdes.string(), topology: (b) => b.stream<string, string>('in', { name: 'in' }).to('out', { name: 'out' }) });\n`,
    );
    const which = run(CLI, ['describe', file], { SLUICE_ENGINE: 'compiled' });
    expect(which.status, which.stderr).to.equal(0);
    expect(which.stderr).to.include(`sluice is file://${path.join(ROOT, 'dist', 'engine', 'index.js')}`);
    const whichSource = run(CLI, ['describe', file], { SLUICE_ENGINE: 'source' });
    expect(whichSource.stderr).to.include(`sluice is file://${path.join(ROOT, 'engine', 'index.ts')}`);
    fs.rmSync(dir, { recursive: true, force: true });

    // Stale: a copy of the package whose build no longer matches its sources.
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-stale-'));
    for (const entry of ['bin', 'engine', 'state', 'dist', 'package.json']) fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    fs.appendFileSync(path.join(copy, 'engine', 'errors.ts'), '\n');
    const refused = run(path.join(copy, 'bin', 'sluice.js'), ['--version'], { SLUICE_ENGINE: 'compiled' });
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.include('does not match the sources');
    // Without the demand, the copy runs from its sources.
    const fromSources = run(path.join(copy, 'bin', 'sluice.js'), ['--version']);
    expect(fromSources.status, fromSources.stderr).to.equal(0);
    fs.rmSync(copy, { recursive: true, force: true });
  });
});
