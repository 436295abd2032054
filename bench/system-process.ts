import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { launchOf } from './peers/launchers.ts';

/** The kernel's clock ticks per second (`getconf CLK_TCK`), 100 on Linux. */
const CLOCK_TICKS = 100;

/** A benchmarked system in its child process, speaking bench/systems/protocol.ts. */
export class SystemProcess {
  readonly events: Array<Record<string, unknown>> = [];
  private readonly child;
  private readonly name: string;
  private readonly exited: Promise<number | null>;
  private stderr = '';

  /** `env` comes on top of this process's environment (set KAFKA_BOOTSTRAP_SERVERS in it). */
  constructor(script: string, env: Record<string, string | undefined>) {
    this.name = script;
    const { command, args } = launchOf(script);
    this.child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Passed through, and the last lines kept to explain a failure in the results.
    this.child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.stderr = (this.stderr + chunk.toString()).slice(-2000);
    });
    let buffered = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl; (nl = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(nl + 1)) {
        try {
          this.events.push(JSON.parse(buffered.slice(0, nl)));
        } catch {
          // not a protocol line
        }
      }
    });
    this.exited = new Promise((resolve) => this.child.on('exit', resolve));
  }

  /** The last few non-empty lines the system wrote to stderr, on one line. */
  get stderrTail(): string {
    return this.stderr.trim().split('\n').filter((l) => l.trim()).slice(-3).join(' | ').slice(-600);
  }

  saw(event: string): boolean {
    return this.events.some((e) => e.event === event);
  }

  /** The first protocol line of this event; throws when the system printed none. */
  event<T>(event: string): T {
    const found = this.events.find((e) => e.event === event);
    if (!found) throw new Error(`${this.name} printed no "${event}" line`);
    return found as T;
  }

  get peakRssMb(): number | undefined {
    return this.events.find((e) => e.event === 'done')?.peakRssMb as number | undefined;
  }

  /**
   * The CPU time the process has used so far (user and system, its threads included), in
   * seconds, from /proc; undefined where there is none or once it has exited.
   */
  cpuSeconds(): number | undefined {
    try {
      const stat = fs.readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      // After the command name (in parentheses, which may hold spaces): state is field 3, utime 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return undefined;
    }
  }

  /** The V8 heap and the memory outside it when the RSS peaked. */
  get atPeak(): unknown {
    return this.events.find((e) => e.event === 'done')?.atPeak;
  }

  async until(what: string, test: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 20): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await test())) {
      if (this.child.exitCode !== null && !(await test())) throw new Error(`${this.name} exited (${this.child.exitCode}) before ${what}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no ${what} within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Asks the system to stop (it commits and reports its peak RSS) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.until('exit', () => this.child.exitCode !== null, 60_000).catch(() => this.child.kill('SIGKILL'));
    await this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

