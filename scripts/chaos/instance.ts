import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'sluice.js');

/** One instance of the application as a child process (`sluice run`, from the repository root), with its JSON log lines. */
export class InstanceProcess {
  readonly child: ChildProcess;
  readonly log: Array<Record<string, unknown>> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';

  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, [CLI, 'run', ...args], {
      cwd: ROOT,
      env: { ...process.env, SLUICE_LOG_LEVEL: process.env.SLUICE_CHILD_LOG_LEVEL ?? 'info', SLUICE_LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.partial += chunk;
      let newline;
      while ((newline = this.partial.indexOf('\n')) >= 0) {
        const line = this.partial.slice(0, newline);
        this.partial = this.partial.slice(newline + 1);
        try {
          this.log.push(JSON.parse(line));
        } catch {
          this.log.push({ msg: line });
        }
      }
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Whether the process still runs (neither exited nor killed). */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the application's state is RUNNING; throws when it exits first or takes longer than `timeoutMs`. */
  async waitUntilRunning(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.log.some((line) => line.msg === 'state changed' && line.to === 'RUNNING')) {
      if (Date.now() > deadline) throw new Error(`${this.name} did not reach RUNNING within ${timeoutMs / 1000} s; its log:\n${this.tail()}`);
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited (${this.child.exitCode}); its log:\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Its last log lines, one JSON object a line. */
  tail(lines = 30): string {
    return this.log.slice(-lines).map((l) => JSON.stringify(l)).join('\n');
  }
}
