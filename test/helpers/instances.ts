import { spawn, type ChildProcess } from 'node:child_process';
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

  constructor(readonly name: string, args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [CLI, 'run', ...args], {
      cwd: ROOT,
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
