import type { ChaosSummary, Guarantee } from './options.ts';

/** Examples kept per broken invariant. */
const EXAMPLES = 5;

/** The invariants a run checks under each guarantee (see checker.ts for what each means). */
export function invariants(guarantee: Guarantee): string[] {
  const both = ['instances.crashed', 'shutdown.unclean', 'catchUp.timeout', 'queries.uncommitted', 'queries.staleUncommitted'];
  if (guarantee === 'exactly_once') {
    return [
      'input.notAsProduced',
      ...['echo', 'sum', 'max', 'count', 'async'].flatMap((o) => [`${o}.unexpected`, `${o}.duplicate`, `${o}.outOfOrder`, `${o}.missing`]),
      'transactions.open',
      ...both,
    ];
  }
  return ['input.notAsProduced', 'echo.unexpected', 'echo.missing', 'sum.belowTrueSum', 'max.lastNotTrueMax', 'count.belowTrueCount', 'async.unexpected', 'async.outOfOrder', 'async.missing', ...both];
}

/** Collects violations per invariant, with a few examples each. */
export class ViolationLog {
  readonly counts: Record<string, number> = {};
  readonly examples: Record<string, string[]> = {};

  constructor(invariants: string[]) {
    for (const name of invariants) this.counts[name] = 0;
  }

  add(invariant: string, example: () => string, n = 1): void {
    this.counts[invariant] = (this.counts[invariant] ?? 0) + n;
    const examples = (this.examples[invariant] ??= []);
    if (examples.length < EXAMPLES) examples.push(example());
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

/** A failure message that says which invariants broke, with examples. */
export function describeViolations(summary: ChaosSummary): string {
  const broken = Object.entries(summary.violations).filter(([, n]) => n > 0);
  if (broken.length === 0) return 'no violations';
  return broken
    .map(([name, n]) => `${name}: ${n}\n${(summary.examples[name] ?? []).map((e) => `    ${e.replace(/\n/g, '\n      ')}`).join('\n')}`)
    .join('\n');
}
