import { spawn } from 'node:child_process';

/** What a program that ran to its end said: its exit code (-1 when it could not start) and both output streams. */
export interface ProgramResult {
  code: number;
  text: string;
}

/** Runs `command` (program first) to its end, collecting both output streams for messages. */
export function runProgram(command: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ProgramResult> {
  return new Promise((resolve) => {
    const [program, ...args] = command;
    const child = spawn(program!, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    child.on('error', (err) => resolve({ code: -1, text: String(err) }));
    child.on('close', (code) => resolve({ code: code ?? -1, text }));
  });
}

/** The last `lines` lines of `text`. */
export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
