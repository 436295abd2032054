// The engine's core (dsl, topology, runtime, iq) and the state stores name no scenario and no
// external system: what one application needs (the mutation aggregator's conflicts, a
// PostgreSQL table) plugs in through the seams, from engine/extensions/ and engine/sinks/.
// ESLint keeps their imports out (eslint.config.js); this keeps their names out of the code too.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CORE = ['engine/dsl', 'engine/topology', 'engine/runtime', 'engine/iq', 'state'];
const SCENARIO = /\b(mutations?|detectConflicts|resolutionsFrom|open-?conflicts|postgres(?:ql)?|toPostgres|pg)\b/i;

function files(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(dir, entry.name);
    return entry.isDirectory() ? files(relative) : entry.name.endsWith('.ts') ? [relative] : [];
  });
}

describe('the engine core', () => {
  it('names no scenario and no external system: no mutation, conflict route or PostgreSQL in dsl, topology, runtime, iq or state', () => {
    const found = CORE.flatMap(files).flatMap((file) =>
      fs
        .readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (SCENARIO.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found).to.deep.equal([]);
  });
});
