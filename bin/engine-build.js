// The engine compiled to JavaScript (dist/), which the `sluice` command loads instead of the
// TypeScript sources when it matches them: Node loads the compiled modules about three times as
// fast as tsx transforms the sources, which is most of the time an instance takes to start (and
// so of how long a restarted instance's partitions wait). `npm run build` (run by
// scripts/setup.sh) writes it; a build that no longer matches the sources (a file changed,
// added, removed or renamed since) is ignored, and the sources run as before.
//
//   node bin/engine-build.js            builds dist/ when it does not match the sources
//   node bin/engine-build.js --force    builds it anyway
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folders compiled, relative to the package. */
const SOURCES = ['engine', 'state'];
const BUILD = 'dist';
const INFO = 'build-info.json';

/** A digest of every TypeScript source's path, size and modification time. */
export function sourcesDigest(root) {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.ts')) {
        const stat = fs.statSync(path.join(root, relative));
        hash.update(`${relative}\0${stat.size}\0${stat.mtimeMs}\n`);
      }
    }
  };
  for (const dir of SOURCES) if (fs.existsSync(path.join(root, dir))) walk(dir);
  return hash.digest('hex');
}

/** The compiled build's folder when it matches the sources of the package at `root`; otherwise undefined. */
export function freshBuild(root) {
  const dir = path.join(root, BUILD);
  try {
    const info = JSON.parse(fs.readFileSync(path.join(dir, INFO), 'utf8'));
    return info.sources === sourcesDigest(root) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Compiles the sources into dist/ (types are checked elsewhere: `tsc --noEmit`), and records what it compiled. */
export function build(root) {
  const sources = sourcesDigest(root);
  const dir = path.join(root, BUILD);
  fs.rmSync(dir, { recursive: true, force: true });
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
  fs.writeFileSync(path.join(dir, INFO), JSON.stringify({ sources, builtAt: new Date().toISOString() }) + '\n');
  return dir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  if (process.argv.includes('--force') || freshBuild(root) === undefined) {
    const started = Date.now();
    build(root);
    process.stderr.write(`[build] the engine compiled into ${BUILD}/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
}
