// No import cycles in the engine and the state stores: every import counts, type-only ones
// included (they tie the files' meanings together as much as the others do). A cycle means two
// files that cannot be understood, moved or tested apart; break it by moving what both need into
// a file of its own (as dsl/api.ts holds the DSL's types for stream.ts, table.ts and the others).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Cycles not broken yet, each as its files in order: no new one may join them. */
const KNOWN: string[][] = [];

/** Every .ts file under the folders, by its path from the repository root. */
function sources(...folders: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const relative = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.ts')) found.push(relative);
    }
  };
  for (const folder of folders) walk(folder);
  return found.sort();
}

/** The files of the set that `file` imports or re-exports from, by relative specifiers. */
function importsOf(file: string, files: Set<string>): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(ROOT, file), 'utf8'), true, true);
  return importedFiles
    .filter((i) => i.fileName.startsWith('.'))
    .map((i) => path.posix.normalize(path.posix.join(path.posix.dirname(file), i.fileName)))
    .filter((target) => files.has(target));
}

/** The strongly connected groups of more than one file (Tarjan), each a set of files in a cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string) => {
    order.set(file, index);
    low.set(file, index++);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!order.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, order.get(next)!));
      }
    }
    if (low.get(file) === order.get(file)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== file);
      if (group.length > 1 || graph.get(file)?.includes(file)) found.push(group.sort());
    }
  };
  for (const file of graph.keys()) if (!order.has(file)) visit(file);
  return found;
}

describe('import cycles', () => {
  it('finds none in engine/ and state/ (type-only imports included), beyond the known ones', () => {
    const files = sources('engine', 'state');
    const set = new Set(files);
    const graph = new Map(files.map((file) => [file, importsOf(file, set)]));
    const known = KNOWN.map((group) => [...group].sort().join(' <-> '));
    const found = cycles(graph).map((group) => group.join(' <-> '));
    expect(found.filter((cycle) => !known.includes(cycle))).to.deep.equal([]);
  });

  it('sees a cycle through type-only imports and re-exports (the check itself)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(graph)).to.deep.equal([['a.ts', 'b.ts', 'c.ts']]);
    const { importedFiles } = ts.preProcessFile("import type { A } from './a.ts';\nexport { B } from './b.ts';\nexport type { C } from './c.ts';\n", true, true);
    expect(importedFiles.map((i) => i.fileName)).to.deep.equal(['./a.ts', './b.ts', './c.ts']);
  });
});
