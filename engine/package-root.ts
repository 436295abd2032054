import fs from 'node:fs';
import path from 'node:path';

/**
 * The directory of the sluice package (its package.json), whether the engine runs from its
 * TypeScript sources or from the compiled build (`dist/`, see bin/engine-build.js): files that
 * are not code (the console's pages, the local broker's pom.xml) are read from the sources.
 */
export const PACKAGE_ROOT = findRoot(import.meta.dirname);

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'sluice') return dir;
    if (path.dirname(dir) === dir) throw new Error(`No package.json of sluice above ${from}.`);
  }
}
