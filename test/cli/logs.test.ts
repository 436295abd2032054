import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT, sluiceSync } from '../helpers/cli.ts';
import { childInstances, Instance } from '../helpers/instances.ts';
import { createUniqueTopic, uniqueName } from '../helpers/kafka.ts';

const isJson = (line: string) => {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
};

describe('sluice --version and the logs of sluice run', function () {
  this.timeout(120_000);
  const instances = childInstances();

  it('prints its version', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const result = sluiceSync([flag]);
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.equal(`${version}\n`);
    }
  });

  async function counter(extra: string[]): Promise<{ instance: Instance; input: string; output: string }> {
    const input = await createUniqueTopic('cli-logs-in', 2);
    const output = uniqueName('cli-logs-out');
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-logs-'));
    const args = [path.join('test', 'fixtures', 'topologies', 'counter.ts'), '--application-id', uniqueName('cli-logs'), '--http-port', '0', '--state-dir', stateDir, ...extra];
    const instance = new Instance('counter', args, { COUNT_INPUT: input, COUNT_OUTPUT: output });
    instances.push(instance);
    return { instance, input, output };
  }

  async function stop(instance: Instance): Promise<void> {
    instance.child.kill('SIGTERM');
    expect((await instance.exited).code).to.equal(0);
  }

  it('prints readable lines with --log-format pretty, and a start-up summary of topics, stores and the query URL', async () => {
    const { instance, input, output } = await counter(['--log-format', 'pretty']);
    await instance.waitFor((line) => String(line.msg).includes('INFO: partitions assigned'));
    const lines = instance.log.map((l) => String(l.msg));
    expect(lines.filter(isJson)).to.deep.equal([]);
    expect(lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: state changed application=\S+ from=CREATED to=STARTING$/.test(l)), lines.join('\n')).to.equal(true);
    const at = lines.findIndex((l) => / is running \(at_least_once\)$/.test(l));
    expect(at, lines.join('\n')).to.be.greaterThan(-1);
    const summary = lines.slice(at, at + 6).join('\n');
    expect(summary).to.match(new RegExp(`reads +${input}\\n`));
    expect(summary).to.match(new RegExp(`writes +${output}\\n`));
    expect(summary).to.match(/stores +counts\n/);
    const url = /queries +(http:\/\/127\.0\.0\.1:\d+\/v1\/stores)/.exec(summary)?.[1];
    expect(url, summary).to.be.a('string');
    const stores = await (await fetch(url!)).json();
    expect(JSON.stringify(stores)).to.contain('counts');
    await stop(instance);
  });

  it('logs JSON lines when standard error is not a terminal, the summary among them', async () => {
    const { instance, input, output } = await counter([]);
    await instance.waitFor((line) => line.msg === 'application started');
    const started = instance.log.find((line) => line.msg === 'application started')!;
    expect(started).to.deep.include({ reads: [input], writes: [output], stores: ['counts'], guarantee: 'at_least_once' });
    expect(started.queries).to.match(/^http:\/\/127\.0\.0\.1:\d+\/v1\/stores$/);
    expect(instance.log.find((line) => line.msg === 'serving interactive queries')).to.include({ component: 'queries' });
    await stop(instance);
    const plain = instance.log.filter((line) => line.level === undefined).map((line) => String(line.msg));
    expect(plain.filter((l) => !l.startsWith('SIGTERM: '))).to.deep.equal([]);
  });

  it('writes each binding once per line, the innermost value winning', () => {
    const script = path.join('test', 'fixtures', 'logging', 'nested-components.ts');
    const json = spawnSync(process.execPath, ['--import', 'tsx', script, 'json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SLUICE_LOG_LEVEL: 'info' } });
    const lines = json.stderr.split('\n').filter(Boolean);
    expect(lines, json.stderr).to.have.length(3);
    for (const line of lines) {
      expect(line.match(/"component":/g), line).to.have.length(1);
      expect(line.match(/"application":/g), line).to.have.length(1);
      expect(line.match(/"name":/g), line).to.have.length(1);
    }
    expect(lines.map((l) => JSON.parse(l).component)).to.deep.equal(['queries', 'directory-consumer', 'directory-consumer']);
    expect(JSON.parse(lines[2]!)).to.include({ task: '0_1', msg: 'written at its own level' });

    const pretty = spawnSync(process.execPath, ['--import', 'tsx', script, 'pretty'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SLUICE_LOG_LEVEL: 'info' } });
    expect(pretty.stderr).to.match(/WARN: \(directory-consumer\) consumer error application=nested code=-195\n/);
  });
});
