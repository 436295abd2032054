import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { defaultHome } from '../../engine/local/home.ts';

const CLI = path.resolve(import.meta.dirname, '..', '..', 'bin', 'sluice.js');

/** Runs the real `sluice` command with its own cache folder, so it gets a broker of its own. */
function sluice(home: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_HOME: home, SLUICE_KAFKA_HEAP: '256m' };
  delete env.KAFKA_BOOTSTRAP_SERVERS;
  return spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 240_000 });
}

describe('sluice kafka start|stop|status', () => {
  let home: string;

  before(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-broker-'));
    // Share the jars the root hook's broker resolved; the data, ports and logs stay separate.
    fs.mkdirSync(path.join(home, 'kafka'), { recursive: true });
    fs.symlinkSync(path.join(defaultHome(), 'kafka', 'lib'), path.join(home, 'kafka', 'lib'));
  });

  after(function () {
    this.timeout(60_000);
    sluice(home, 'kafka', 'stop');
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('starts once, returns the same address when started again, and stops', function () {
    this.timeout(300_000);
    const first = sluice(home, 'kafka', 'start');
    expect(first.status, first.stderr).to.equal(0);
    const address = first.stdout.trimEnd().split('\n').at(-1)!;
    expect(address).to.match(/^127\.0\.0\.1:\d+$/);
    // The shared broker already holds 9092 (or whatever it got): a busy port means another one.
    expect(address).not.to.equal(process.env.KAFKA_BOOTSTRAP_SERVERS);

    const second = sluice(home, 'kafka', 'start');
    expect(second.status, second.stderr).to.equal(0);
    expect(second.stdout.trimEnd().split('\n').at(-1)).to.equal(address);

    const running = sluice(home, 'kafka', 'status');
    expect(running.status).to.equal(0);
    expect(running.stdout).to.contain(`running at ${address}`);

    const stop = sluice(home, 'kafka', 'stop');
    expect(stop.status, stop.stderr).to.equal(0);
    expect(stop.stdout.trim()).to.equal('stopped');

    const stopped = sluice(home, 'kafka', 'status');
    expect(stopped.status).to.equal(3);
    expect(stopped.stdout).to.match(/^stopped/);
  });

  it('says which tool is missing when Java is not on the PATH', () => {
    // A PATH holding only node: no java, no mvn.
    const bin = path.join(home, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_HOME: home, PATH: bin };
    delete env.KAFKA_BOOTSTRAP_SERVERS;
    const result = spawnSync(process.execPath, [CLI, 'kafka', 'start'], { env, encoding: 'utf8' });
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain('Java 17 or newer is needed');
    expect(result.stderr).to.contain('apt-get install openjdk-17-jre-headless');
    expect(result.stderr).to.contain('SLUICE_MISSING_TOOL');
  });
});
