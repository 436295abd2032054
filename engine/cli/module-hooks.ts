/**
 * Module resolution hooks of the `sluice` command (registered by bin/sluice.js after tsx's), so
 * that a topology file works wherever it lives, without a package.json or an install next to it:
 * - `sluice` (and `sluice/...`) resolve to the package this command belongs to, so a topology file
 *   and the command share one engine;
 * - TypeScript files outside node_modules load as ES modules, and so do JavaScript files with
 *   `import` or `export` statements that no package.json declares a `"type"` for. Otherwise,
 *   without a package.json saying `"type": "module"`, they would go to the CommonJS loader, where
 *   `import` syntax fails ("Cannot require() ES Module … in a cycle").
 * They run on Node's module loader thread; see `module.register`.
 */
import fs from 'node:fs';
import type { InitializeHook, ResolveHook } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What bin/sluice.js passes: a file URL inside this package, to resolve `sluice` from, and the compiled engine's folder when it runs compiled. */
export interface HooksData {
  packageUrl: string;
  buildUrl?: string;
}

let packageUrl: string | undefined;
/** The package's entry points (`"exports"`), compiled: `sluice/mutations` → a file URL in the build. */
let compiled: Map<string, string> | undefined;

export const initialize: InitializeHook<HooksData> = (data) => {
  packageUrl = data.packageUrl;
  if (data.buildUrl !== undefined) compiled = compiledExports(new URL('../package.json', data.packageUrl), data.buildUrl);
};

/** Each entry point of the package's `"exports"` (`./engine/index.ts`) as its compiled file (`<build>/engine/index.js`). */
function compiledExports(manifest: URL, buildUrl: string): Map<string, string> {
  const { exports } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { exports: Record<string, string> };
  const specifiers = Object.entries(exports).map(([subpath, file]) => [subpath === '.' ? 'sluice' : `sluice/${subpath.slice(2)}`, new URL(file.replace(/^\.\//, '').replace(/\.ts$/, '.js'), buildUrl).href] as const);
  return new Map(specifiers);
}

const TYPESCRIPT = /\.tsx?$/;
const JAVASCRIPT = /\.jsx?$/;
/** An `import` or `export` statement at the start of a line. */
const MODULE_SYNTAX = /^\s*(?:import\s*[\w{*'"]|export\s)/m;

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const built = compiled?.get(specifier);
  // The engine runs compiled: a topology file's `sluice` is that same engine, not its sources.
  if (built !== undefined) return { url: built, format: 'module', shortCircuit: true };
  if (packageUrl !== undefined && (specifier === 'sluice' || specifier.startsWith('sluice/'))) {
    // A package may import itself by name (its "exports"), so resolve as if from inside it.
    return nextResolve(specifier, { ...context, parentURL: packageUrl });
  }
  const resolved = await nextResolve(specifier, context);
  if (!resolved.format?.startsWith('commonjs') || !resolved.url.startsWith('file:')) return resolved;
  const file = fileURLToPath(resolved.url);
  if (file.split(path.sep).includes('node_modules')) return resolved;
  const esm = TYPESCRIPT.test(file) || (JAVASCRIPT.test(file) && declaredType(path.dirname(file)) === undefined && MODULE_SYNTAX.test(fs.readFileSync(file, 'utf8')));
  return esm ? { ...resolved, format: 'module' } : resolved;
};

const declaredTypes = new Map<string, string | undefined>();

/** The `"type"` of the nearest package.json above `dir`, or undefined when none says. */
function declaredType(dir: string): string | undefined {
  if (declaredTypes.has(dir)) return declaredTypes.get(dir);
  let type: string | undefined;
  const manifest = path.join(dir, 'package.json');
  if (fs.existsSync(manifest)) {
    try {
      const parsed = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { type?: unknown };
      type = typeof parsed.type === 'string' ? parsed.type : undefined;
    } catch {
      type = undefined;
    }
  } else if (path.dirname(dir) !== dir) {
    type = declaredType(path.dirname(dir));
  }
  declaredTypes.set(dir, type);
  return type;
}
