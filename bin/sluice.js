#!/usr/bin/env node
// The `sluice` command. The engine runs compiled (dist/, from `npm run build`) when that build
// matches its TypeScript sources, else from the sources through tsx (SLUICE_ENGINE=source asks
// for the sources anyway, SLUICE_ENGINE=compiled refuses to run without the build). Topology
// files are TypeScript, run through tsx. The module hooks registered after tsx's let a topology
// file anywhere import 'sluice' (this package, compiled or not: one engine for both) and load as
// an ES module (engine/cli/module-hooks.ts).
import { loaded } from './stop-while-loading.js';
import { register as registerHooks } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';
import { freshBuild } from './engine-build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const build = process.env.SLUICE_ENGINE === 'source' ? undefined : freshBuild(root);
if (!build && process.env.SLUICE_ENGINE === 'compiled') {
  process.stderr.write('sluice: SLUICE_ENGINE=compiled, but dist/ does not match the sources: run `npm run build`.\n');
  process.exit(1);
}
const engine = (file) => (build ? pathToFileURL(path.join(build, 'engine', file.replace(/\.ts$/, '.js'))).href : new URL(`../engine/${file}`, import.meta.url).href);

const hooks = () => {
  register();
  registerHooks(engine('cli/module-hooks.ts'), import.meta.url, { data: { packageUrl: import.meta.url, buildUrl: build && pathToFileURL(build + path.sep).href } });
};
// The compiled engine loads before the hooks, which would slow each of its imports down.
if (!build) hooks();
const { runCli } = await import(engine('cli/main.ts'));
if (build) hooks();
await runCli(process.argv, loaded);
