// The skeleton the local services share (engine/local/service.ts), on a service of its own: a
// small HTTP server in a detached process, which answers or stays mute as a test needs. The
// broker, registry and PostgreSQL add their specifics on top of exactly this.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SluiceError } from '../../engine/errors.ts';
import { freePort } from '../../engine/local/ports.ts';
import { isAlive } from '../../engine/local/process-control.ts';
import { LocalService } from '../../engine/local/service.ts';

/** What the service's command line contains, and nothing else on the machine does. */
const MARKER = `sluice-test-service-${process.pid}`;
/** A server that answers every request; argv: marker, port. */
const ANSWERING = "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[2]), '127.0.0.1')";
/** A process that never answers and exits with 7 after a moment. */
const FAILING = "console.log('cannot start: port taken'); setTimeout(() => process.exit(7), 300)";

interface Running {
  pid: number;
  port: number;
}

class TestService extends LocalService<Running> {
  launches = 0;

  constructor(home: string, private readonly script = ANSWERING) {
    super(
      {
        folder: 'test-service',
        name: 'the test service',
        stateFile: 'service.json',
        logFile: 'service.log',
        marker: MARKER,
        lockTimeoutMs: 20_000,
        stopTimeoutMs: 2_000,
        answerTimeoutMs: 1_000,
        error: (message) => new SluiceError('SLUICE_TEST_SERVICE', message),
      },
      { home },
    );
  }

  get state(): string {
    return this.stateFile;
  }

  protected override async answers(running: Running, timeoutMs: number): Promise<boolean> {
    try {
      return (await fetch(`http://127.0.0.1:${running.port}/`, { signal: AbortSignal.timeout(timeoutMs) })).ok;
    } catch {
      return false;
    }
  }

  protected override async launch(): Promise<Running> {
    this.launches++;
    const port = await freePort();
    return this.launchDetached(process.execPath, ['-e', this.script, MARKER, String(port)], (pid) => ({ pid, port }), 10_000);
  }
}

/** A process of our own with the marker in its command line that never answers. */
function muteProcess(): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', MARKER], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid!;
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  return !isAlive(pid);
}

describe('local services: the shared skeleton (start, stop, status, lock, stale processes)', function () {
  this.timeout(60_000);
  let home: string;
  /** Every pid a test started, killed afterwards whatever happened. */
  const pids: number[] = [];

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-local-service-'));
  });

  afterEach(() => {
    for (const pid of pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('starts once, returns the same process when started again, and stops', async () => {
    const service = new TestService(home);
    expect(await service.status()).to.deep.equal({ running: false });
    const first = await service.start();
    pids.push(first.pid);
    expect(await service.status()).to.deep.equal({ running: true, ...first });
    // Another command (another object, same folder) finds the same process.
    const again = new TestService(home);
    expect(await again.start()).to.deep.equal(first);
    expect(again.launches).to.equal(0);

    expect(await service.stop()).to.equal(true);
    expect(await gone(first.pid)).to.equal(true);
    expect(await service.status()).to.deep.equal({ running: false });
    expect(fs.existsSync(service.state)).to.equal(false);
    expect(await service.stop()).to.equal(false);
  });

  it('starts one process when several start at once', async () => {
    const services = [new TestService(home), new TestService(home), new TestService(home)];
    const started = await Promise.all(services.map((s) => s.start()));
    pids.push(...started.map((s) => s.pid));
    expect(new Set(started.map((s) => s.pid)).size).to.equal(1);
    expect(services.reduce((n, s) => n + s.launches, 0)).to.equal(1);
    await services[0]!.stop();
  });

  it('forgets a process that died, and one whose pid now belongs to another program, without touching that program', async () => {
    const service = new TestService(home);
    fs.mkdirSync(service.dir, { recursive: true });
    const dead = spawn(process.execPath, ['-e', '', MARKER]);
    await new Promise((resolve) => dead.once('exit', resolve));
    fs.writeFileSync(service.state, JSON.stringify({ pid: dead.pid, port: 1 }));
    expect(await service.status()).to.deep.equal({ running: false });

    // Our own pid: alive, but its command line is not the service's.
    fs.writeFileSync(service.state, JSON.stringify({ pid: process.pid, port: 1 }));
    expect(await service.status()).to.deep.equal({ running: false });
    expect(await service.stop()).to.equal(false);
    const started = await service.start();
    pids.push(started.pid);
    expect(started.pid).to.not.equal(process.pid);
    expect(service.launches).to.equal(1);
    await service.stop();
  });

  it('replaces a process that runs but does not answer', async () => {
    const service = new TestService(home);
    fs.mkdirSync(service.dir, { recursive: true });
    const mute = muteProcess();
    pids.push(mute);
    fs.writeFileSync(service.state, JSON.stringify({ pid: mute, port: await freePort() }));
    expect((await service.status()).running).to.equal(true);

    const started = await service.start();
    pids.push(started.pid);
    expect(started.pid).to.not.equal(mute);
    expect(await gone(mute)).to.equal(true);
    expect(await service.status()).to.deep.equal({ running: true, ...started });
    await service.stop();
  });

  it('takes over a start lock its holder left behind when it died', async () => {
    const service = new TestService(home);
    fs.mkdirSync(service.dir, { recursive: true });
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    fs.writeFileSync(path.join(service.dir, 'start.lock'), String(dead.pid));
    const started = await service.start();
    pids.push(started.pid);
    expect(fs.existsSync(path.join(service.dir, 'start.lock'))).to.equal(false);
    await service.stop();
  });

  it('says why a process did not start, with the end of its log, and leaves nothing behind', async () => {
    const service = new TestService(home, FAILING);
    const error = await service.start().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).to.be.instanceOf(SluiceError);
    const { code, message } = error as SluiceError;
    expect(code).to.equal('SLUICE_TEST_SERVICE');
    expect(message).to.match(/^The test service did not start \(exited with code 7\)\. Its log \([^)]*service\.log\) ends with:\ncannot start: port taken$/);
    expect(fs.existsSync(service.state)).to.equal(false);
    expect(await service.status()).to.deep.equal({ running: false });
  });
});
