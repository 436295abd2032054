import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { expect } from 'chai';
import { formatRestoreProgress, restoreProgressBar } from '../../engine/cli/progress-bar.ts';
import { resolveRunOptions } from '../../engine/cli/run-config.ts';
import { ConfigError } from '../../engine/errors.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'sluice.js');
const fixture = (name: string) => path.join('test', 'fixtures', 'topologies', name);

function sluice(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

describe('sluice describe and topology files', function () {
  this.timeout(60_000);

  it('prints a topology file as JSON with sub-topologies, nodes, stores and topics', () => {
    const result = sluice('describe', 'topologies/media-lifecycle.ts', '--format', 'json');
    expect(result.status, result.stderr).to.equal(0);
    const description = JSON.parse(result.stdout);
    expect(description.applicationId).to.equal('media-lifecycle');
    expect(description.subtopologies).to.have.length(1);
    const nodes = description.subtopologies[0].nodes;
    expect(nodes.map((n: { name: string }) => n.name)).to.include.members(['media-events', 'validate', 'lifecycle', 'reason', 'rejected']);
    expect(nodes.find((n: { name: string }) => n.name === 'lifecycle').stores).to.deep.equal(['media-items']);
    expect(description.stores).to.deep.equal([{ name: 'media-items', changelog: 'media-lifecycle-media-items-changelog', partitionedByKey: true }]);
    expect(description.topics).to.deep.include({ name: 'media-lifecycle-media-items-changelog', type: 'changelog', partitions: null });
    expect(description.topics).to.deep.include({ name: 'media-events', type: 'source', partitions: null });
    expect(description.topics).to.deep.include({ name: 'media-events-rejected', type: 'sink', partitions: null });
  });

  it('prints text and Mermaid', () => {
    const text = sluice('describe', 'topologies/media-lifecycle.ts');
    expect(text.status, text.stderr).to.equal(0);
    expect(text.stdout).to.contain('Sub-topology: 0').and.contain('Source: media-events (topics: [media-events])');
    expect(text.stdout).to.contain('media-items (sub-topology 0, changelog: media-lifecycle-media-items-changelog, key lookups ask: one partition (partitioned by key))');
    const analytics = sluice('describe', 'topologies/event-analytics.ts');
    expect(analytics.stdout).to.contain('Sub-topology: 1').and.contain('(count; stores: [event-counts])');
    const mermaid = sluice('describe', 'topologies/media-lifecycle.ts', '--format', 'mermaid');
    expect(mermaid.stdout.startsWith('flowchart LR')).to.equal(true);
  });

  const bad: Array<[string, RegExp]> = [
    ['unknown-operator.js', /Operator "orders": "fliter" is not an operator of a stream; did you mean "filter"\?/],
    ['missing-serde.ts', /Operator "orders": no value serde to read records with: pass one to stream\(topic, \{ key, value \}\)/],
    ['cycle.ts', /Operator "(enrich|audit)": it is part of a cycle \((enrich|audit) -> (enrich|audit) -> (enrich|audit)\)/],
    ['no-default-export.ts', /its default export must be an application/],
  ];
  for (const [file, reason] of bad) {
    it(`rejects ${file} with the operator and the reason`, () => {
      const result = sluice('describe', fixture(file));
      expect(result.status).to.equal(1);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.contain(fixture(file));
      expect(result.stderr).to.match(reason);
      expect(result.stderr).to.match(/\[SLUICE_TOPOLOGY(_FILE)?\]/);
    });
  }

  it('refuses to run a bad topology file the same way, before connecting to anything', () => {
    const result = sluice('run', fixture('cycle.ts'), '--bootstrap-servers', '127.0.0.1:1');
    expect(result.status).to.equal(1);
    expect(result.stderr).to.match(/part of a cycle/);
  });

  it('rejects an unknown --guarantee and a bad config file', () => {
    const guarantee = sluice('run', fixture('echo.ts'), '--guarantee', 'at_most_once');
    expect(guarantee.status).to.equal(1);
    expect(guarantee.stderr).to.contain("argument 'at_most_once' is invalid");
    const config = sluice('run', fixture('echo.ts'), '--config', fixture('cycle.ts'));
    expect(config.status).to.equal(1);
    expect(config.stderr).to.contain('could not be read as JSON').and.contain('SLUICE_CONFIG');
  });

  it('takes the state directory from --state-dir, SLUICE_STATE_DIR or the config file, in that order', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-config-'));
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ stateDir: 'from-file' }));
    expect(resolveRunOptions({ config: file }, {}).stateDir).to.equal('from-file');
    expect(resolveRunOptions({ config: file }, { SLUICE_STATE_DIR: 'from-env' }).stateDir).to.equal('from-env');
    expect(resolveRunOptions({ config: file, stateDir: 'from-flag' }, { SLUICE_STATE_DIR: 'from-env' }).stateDir).to.equal('from-flag');
    fs.writeFileSync(file, JSON.stringify({ stateDir: 42 }));
    expect(() => resolveRunOptions({ config: file }, {})).to.throw(ConfigError, /stateDir must be a directory path/);
  });

  it('takes the instance name and the stream threads from flags, the environment or the config file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-config-'));
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ instanceName: 'from-file', numStreamThreads: 3 }));
    expect(resolveRunOptions({ config: file }, {})).to.deep.include({ instanceName: 'from-file', numStreamThreads: 3 });
    expect(resolveRunOptions({ config: file }, { SLUICE_INSTANCE_NAME: 'from-env' }).instanceName).to.equal('from-env');
    expect(resolveRunOptions({ config: file, instanceName: 'from-flag', numStreamThreads: '2' }, { SLUICE_INSTANCE_NAME: 'from-env' })).to.deep.include({ instanceName: 'from-flag', numStreamThreads: 2 });
    expect(() => resolveRunOptions({ numStreamThreads: 'two' }, {})).to.throw(ConfigError, /--num-stream-threads must be a whole number/);
  });

  it('draws restoration progress as a bar on a terminal, and nothing elsewhere', () => {
    const progress = { tasks: ['0_0', '0_1'], restored: 250_000, total: 1_000_000, recordsPerSec: 125_000, etaSeconds: 6, done: false };
    expect(formatRestoreProgress(progress)).to.equal(
      `restoring 2 tasks [${'#'.repeat(8)}${'-'.repeat(22)}]  25% 250,000/1,000,000 records, 125,000/s, ETA 6s`,
    );
    const written: string[] = [];
    restoreProgressBar({ isTTY: true, write: (s: string) => written.push(s) > 0 })(progress);
    restoreProgressBar({ isTTY: true, write: (s: string) => written.push(s) > 0 })({ ...progress, restored: 1_000_000, etaSeconds: 0, done: true });
    restoreProgressBar({ isTTY: false, write: (s: string) => written.push(s) > 0 })(progress);
    expect(written).to.have.length(2);
    expect(written[0]!.startsWith('\r')).to.equal(true);
    expect(written[1]).to.contain('100%').and.contain(', done').and.match(/\n$/);
  });
});
