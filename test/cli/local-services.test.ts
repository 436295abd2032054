// `sluice kafka|registry|postgres stop|status` on a cache folder where nothing runs: the same
// words and exit statuses for every local service (engine/cli/local-service-command.ts). Starting
// them is tested where they are used (test/kafka/local-broker.test.ts, the root hook).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';

const CLI = path.resolve(import.meta.dirname, '..', '..', 'bin', 'sluice.js');

describe('sluice kafka|registry|postgres stop|status where nothing runs', function () {
  this.timeout(60_000);
  let home: string;

  before(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-no-services-'));
  });

  after(() => fs.rmSync(home, { recursive: true, force: true }));

  function sluice(...args: string[]) {
    return spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, SLUICE_HOME: home }, encoding: 'utf8', timeout: 30_000 });
  }

  for (const [service, stopped] of [
    ['kafka', /^stopped \(Kafka \d+\.\d+\.\d+\)\n$/],
    ['registry', /^stopped\n$/],
    ['postgres', /^stopped\n$/],
  ] as const) {
    it(`${service}: status says stopped and exits 3; stop says not running and exits 0`, () => {
      const status = sluice(service, 'status');
      expect(status.stdout).to.match(stopped);
      expect(status.status, status.stderr).to.equal(3);
      const stop = sluice(service, 'stop');
      expect(stop.stdout).to.equal('not running\n');
      expect(stop.status, stop.stderr).to.equal(0);
    });
  }
});
