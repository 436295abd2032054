// One error catalogue: every class docs/errors.md lists is a SluiceError, exported from the
// package root with the code the page gives it.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import * as sluice from '../../engine/index.ts';

const PAGE = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8');

describe('the error catalogue', () => {
  const rows = [...PAGE.matchAll(/^\| `(SLUICE_[A-Z_]+)` \| `(\w+)` \|/gm)].map(([, code, name]) => ({ code: code!, name: name! }));

  it('lists every error class, exported from the package root as a SluiceError with its code', () => {
    expect(rows.length).to.be.greaterThan(20);
    const exported = sluice as unknown as Record<string, unknown>;
    for (const { code, name } of rows) {
      const found = exported[name] as (new (...args: never[]) => Error) | undefined;
      expect(found, `${name} exported from 'sluice'`).to.be.a('function');
      expect(found!.prototype, `${name} is a SluiceError`).to.be.instanceOf(sluice.SluiceError);
      const source = fs.readFileSync(path.resolve(import.meta.dirname, '../..', sourceOf(name)), 'utf8');
      expect(source, `${name} uses the code ${code}`).to.include(`'${code}'`);
    }
  });

  it('gives every exported SluiceError class a row', () => {
    const listed = new Set(rows.map((r) => r.name));
    const classes = Object.entries(sluice).filter(([, value]) => typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof sluice.SluiceError);
    for (const [name] of classes) expect(listed.has(name), `${name} has a row in docs/errors.md`).to.equal(true);
  });
});

/** The file that defines an error class, found by its declaration. */
function sourceOf(name: string): string {
  const roots = ['engine', 'state'];
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.resolve(import.meta.dirname, '../..', dir), { withFileTypes: true })) {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.ts')) files.push(relative);
    }
  };
  roots.forEach(walk);
  const found = files.find((f) => fs.readFileSync(path.resolve(import.meta.dirname, '../..', f), 'utf8').includes(`class ${name} extends`));
  if (!found) throw new Error(`no declaration of ${name}`);
  return found;
}
