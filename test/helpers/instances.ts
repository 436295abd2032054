import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrapServers } from './kafka.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'sluice.js');

/** An application instance running as a child process (`sluice run`), with its log lines. */
export class Instance {
  readonly child: ChildProcess;
  readonly log: Array<Record<string, unknown>> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderr = '';

  constructor(readonly name: string, args: string[], env: Record<string, string>, options: { cwd?: string } = {}) {
    this.child = spawn(process.execPath, [CLI, 'run', ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: bootstrapServers(), SLUICE_LOG_LEVEL: process.env.SLUICE_CHILD_LOG_LEVEL ?? 'info', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
      let newline;
      while ((newline = this.stderr.indexOf('\n')) >= 0) {
        const line = this.stderr.slice(0, newline);
        this.stderr = this.stderr.slice(newline + 1);
        try {
          this.log.push(JSON.parse(line));
        } catch {
          this.log.push({ msg: line });
        }
      }
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves once the instance has logged a line matching `predicate`. */
  async waitFor(predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.log.some(predicate)) {
      if (Date.now() > deadline) throw new Error(`${this.name} did not log what was awaited; its log:\n${this.tail()}`);
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited (${this.child.exitCode}); its log:\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  waitUntilRunning(): Promise<void> {
    return this.waitFor((line) => line.msg === 'state changed' && line.to === 'RUNNING');
  }

  tail(lines = 30): string {
    return this.log.slice(-lines).map((l) => JSON.stringify(l)).join('\n');
  }
}

/**
 * The instances a test suite starts: every one still running is killed after each test, and
 * when a test failed their logs are written to $SLUICE_TEST_LOGS (if set).
 */
export function childInstances(): Instance[] {
  const instances: Instance[] = [];
  afterEach(function () {
    for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGKILL');
    if (this.currentTest?.state === 'failed' && process.env.SLUICE_TEST_LOGS) {
      for (const i of instances) fs.writeFileSync(path.join(process.env.SLUICE_TEST_LOGS, `${i.name}.log`), i.tail(10_000));
    }
    instances.length = 0;
  });
  return instances;
}

/** A `--config` file with frequent commits and a short session timeout, so a killed instance's partitions move quickly. */
export function failoverConfig(settings: Record<string, unknown> = {}): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-failover-')), 'config.json');
  fs.writeFileSync(file, JSON.stringify({ commitIntervalMs: 200, kafka: { 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500 }, ...settings }));
  return file;
}
