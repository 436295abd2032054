/**
 * Where the benchmark's peer systems get their dependencies: under the project's scratch
 * directory (`.sluice/bench`, or `$SLUICE_HOME/bench`), never in the project's own
 * package.json, so nothing of theirs is committed or installed with Sluice.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO = path.resolve(import.meta.dirname, '..', '..');

export function peersHome(): string {
  return path.join(process.env.SLUICE_HOME ?? path.join(REPO, '.sluice'), 'bench');
}

/** The npm packages of the Node peers live in their own directory with its own package.json. */
export function nodePeersDir(): string {
  return path.join(peersHome(), 'node-peers');
}

/**
 * Imports a package installed in the Node peers' directory. A bare `import` would resolve from
 * this file's location, the project's node_modules, where the peers are deliberately absent.
 */
export async function importNodePeer<T>(specifier: string): Promise<T> {
  const require = createRequire(path.join(nodePeersDir(), 'package.json'));
  let resolved: string;
  try {
    resolved = require.resolve(specifier);
  } catch {
    // ESM-only packages have no "require" condition; find the package and take its "import" entry.
    const manifest = require.resolve(`${specifier}/package.json`);
    const pkg = require(manifest) as { exports?: Record<string, { import?: string | { default?: string } }>; module?: string; main?: string };
    const entry = pkg.exports?.['.']?.import;
    resolved = path.join(path.dirname(manifest), (typeof entry === 'string' ? entry : entry?.default) ?? pkg.module ?? pkg.main ?? 'index.js');
  }
  return (await import(pathToFileURL(resolved).href)) as T;
}
