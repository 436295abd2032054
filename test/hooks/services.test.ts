import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { servicesToStart } from './broker.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const MOCHA = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
const { servicesOf, unitPatterns, matches } = createRequire(import.meta.url)('./service-needs.cjs') as {
  servicesOf: (file: string) => string[];
  unitPatterns: string[];
  matches: (pattern: string, file: string) => boolean;
};

/**
 * Runs mocha on `files` in a child process with no service named in the environment and
 * SLUICE_HOME on a plain file, so that starting any local service fails at once (instead of
 * downloading Kafka or building the registry).
 */
function mochaWithoutServices(files: string[]): { status: number | null; output: string; home: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-no-services-'));
  const home = path.join(dir, 'not-a-folder');
  fs.writeFileSync(home, 'SLUICE_HOME is a file: no local service can start here\n');
  const env: NodeJS.ProcessEnv = { ...process.env, TEST: files.join(','), SLUICE_HOME: home };
  for (const name of ['KAFKA_BOOTSTRAP_SERVERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL', 'SLUICE_TEST_SUITE', 'SLUICE_KEEP_BROKER']) delete env[name];
  const run = spawnSync(process.execPath, [MOCHA, '--reporter', 'dot'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, output: `${run.stdout}\n${run.stderr}`, home };
}

function testFiles(dir = path.join(ROOT, 'test')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : testFiles(full);
    return entry.name.endsWith('.test.ts') ? [path.relative(ROOT, full).split(path.sep).join('/')] : [];
  });
}

describe('the services a test run starts', function () {
  this.timeout(180_000);

  it('are those the loaded files need, less those the environment names', () => {
    const none = { kafka: false, registry: false, postgres: false };
    expect(servicesToStart(['test/state/staged-writes.test.ts', 'test/dsl/types.test.ts'], none)).to.deep.equal([]);
    expect(servicesToStart(['test/state/staged-writes.test.ts', 'test/kafka/reader.test.ts'], none)).to.deep.equal(['kafka']);
    expect(servicesToStart(['test/sinks/postgres-sink.test.ts', 'test/serde/avro-registry.test.ts'], none)).to.deep.equal(['registry', 'postgres', 'kafka']);
    expect(servicesToStart(['test/sinks/postgres-sink.test.ts'], { kafka: true, registry: false, postgres: true })).to.deep.equal([]);
    // A file no pattern names needs everything: a new test works when run alone.
    expect(servicesToStart(['test/somewhere/new.test.ts'], none)).to.deep.equal(['registry', 'postgres', 'kafka']);
  });

  it('npm run test:unit runs files that need no service, and every pattern names one', () => {
    const files = testFiles();
    const unit = files.filter((f) => servicesOf(f).length === 0);
    expect(unit).to.include.members(['test/state/staged-writes.test.ts', 'test/dsl/types.test.ts', 'test/testing/test-driver.test.ts', 'test/hooks/services.test.ts']);
    expect(unit).to.not.include('test/kafka/reader.test.ts');
    for (const pattern of unitPatterns) expect(files.some((f) => matches(pattern, f)), pattern).to.equal(true);
  });

  it('a unit test file runs without a broker, registry or database, and starts none', () => {
    const run = mochaWithoutServices(['test/state/staged-writes.test.ts']);
    expect(run.status, run.output).to.equal(0);
    expect(run.output).to.match(/\d+ passing/);
    expect(run.output).to.not.match(/\[(broker|registry|postgres)\]/);
    expect(fs.statSync(run.home).isFile()).to.equal(true);
  });

  it('a file that needs the broker gets it started (here: tried, and refused by the unusable SLUICE_HOME)', () => {
    const run = mochaWithoutServices(['test/kafka/reader.test.ts']);
    expect(run.status, run.output).to.not.equal(0);
    expect(run.output).to.match(/ENOTDIR: not a directory, mkdir '[^']*kafka'/);
    expect(run.output).to.not.match(/\[(registry|postgres)\]/);
  });
});
