import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';

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
    expect(description.subtopologies[0].nodes.map((n: { name: string }) => n.name)).to.include.members(['media-events', 'validate', 'route', 'by-type', 'rejected']);
    expect(description.stores).to.deep.equal([]);
    expect(description.topics).to.deep.include({ name: 'media-events', type: 'source', partitions: null });
    expect(description.topics).to.deep.include({ name: 'media-events-rejected', type: 'sink', partitions: null });
  });

  it('prints text and Mermaid', () => {
    const text = sluice('describe', 'topologies/media-lifecycle.ts');
    expect(text.status, text.stderr).to.equal(0);
    expect(text.stdout).to.contain('Sub-topology: 0').and.contain('Source: media-events (topics: [media-events])');
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
});
