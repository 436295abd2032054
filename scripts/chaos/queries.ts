/**
 * Interactive queries during a chaos run. While instances are killed and restarted, a querier
 * looks keys up in the store "tagged-count" on whichever instances run (every other lookup with
 * `stale=true`), and keeps every answer. Each count there is tagged with the process that
 * counted it, so a count computed in a transaction that was aborted (its process killed before
 * the commit) and computed again by another process differs from the committed one. Afterwards
 * every answer must be a record the committed changelog holds: a lookup never shows what a
 * committed read would not, and a stale one shows what a standby read committed.
 */
import { sleep, type RunOptions } from './options.ts';
import type { TailReader } from './tail-reader.ts';
import type { ViolationLog } from './violations.ts';

/** One lookup answered with a value. */
interface Answer {
  key: string;
  /** The value as JSON text, as the changelog holds it. */
  value: string;
  stale: boolean;
  endpoint: string;
  at: number;
}

/** A lookup takes at most this long; the instance asked may have been killed meanwhile. */
const LOOKUP_TIMEOUT_MS = 5_000;
/** Pause between two lookups. */
const PAUSE_MS = 25;

export class Querier {
  readonly statuses: Record<string, number> = {};
  private readonly answers: Answer[] = [];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly options: RunOptions,
    private readonly endpoints: () => string[],
  ) {}

  get counts(): { fresh: number; stale: number; statuses: Record<string, number> } {
    const stale = this.answers.filter((a) => a.stale).length;
    return { fresh: this.answers.length - stale, stale, statuses: this.statuses };
  }

  start(): void {
    this.running = true;
    this.loop = this.lookUp();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Reads the committed changelog and records each answer it does not hold. */
  async verify(tails: TailReader, changelog: string, violations: ViolationLog): Promise<void> {
    const committed = new Set<string>();
    await tails.readCommitted(changelog, (r) => committed.add(entry(r.key?.toString() ?? '', r.value?.toString() ?? '')));
    for (const a of this.answers) {
      if (committed.has(entry(a.key, a.value))) continue;
      const invariant = a.stale ? 'queries.staleUncommitted' : 'queries.uncommitted';
      violations.add(invariant, () => `key ${a.key}: ${a.value} from ${a.endpoint}${a.stale ? ' (stale=true)' : ''} at ${new Date(a.at).toISOString()} is not in the committed changelog`);
    }
  }

  private async lookUp(): Promise<void> {
    let n = 0;
    while (this.running) {
      const endpoints = this.endpoints();
      if (endpoints.length === 0) {
        await sleep(200);
        continue;
      }
      const endpoint = endpoints[n % endpoints.length]!;
      const key = String(Math.floor(Math.random() * this.options.keys));
      const stale = n++ % 2 === 1;
      await this.ask(endpoint, key, stale);
      await sleep(PAUSE_MS);
    }
  }

  private async ask(endpoint: string, key: string, stale: boolean): Promise<void> {
    const url = `${endpoint}/v1/stores/tagged-count/keys/${encodeURIComponent(key)}${stale ? '?stale=true' : ''}`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS) });
      const body = (await response.json()) as { value?: unknown; stale?: boolean; reason?: string };
      // A 503 is counted by its reason (restoring, rebalancing, not-owner, owner-unreachable).
      const status = response.status === 503 && body.reason ? `503 ${body.reason}` : String(response.status);
      this.statuses[status] = (this.statuses[status] ?? 0) + 1;
      if (response.status !== 200) return;
      this.answers.push({ key, value: JSON.stringify(body.value), stale: body.stale === true, endpoint, at: Date.now() });
    } catch {
      // The instance asked was killed, or stopped answering meanwhile.
      this.statuses.unanswered = (this.statuses.unanswered ?? 0) + 1;
    }
  }
}

function entry(key: string, value: string): string {
  return `${key}\u0000${value}`;
}
