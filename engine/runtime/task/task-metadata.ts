import type { ProcessorMetadata } from '../../processors/processor.ts';

/** The version written first in the commit metadata; another version is ignored, not misread. */
const VERSION = 1;
/**
 * The most the string may take: brokers refuse a commit whose metadata is longer than
 * `offset.metadata.max.bytes` (4,096 by default), and a refused commit stops the application.
 */
const MAX_LENGTH = 4_000;

/**
 * What a task keeps beside its committed input positions, in the offset commit's metadata
 * string (as Kafka Streams keeps a partition's time there): the task's stream time and numbers
 * its processors keep across restarts (a windowed aggregation's observed stream time, by store).
 * A restarted or moved task reads them back from the group's committed offsets, so lateness is
 * judged as before the restart. The broker limits the string (`offset.metadata.max.bytes`, 4 KB
 * by default): a few numbers per task.
 */
export class TaskMetadata implements ProcessorMetadata {
  /** The largest record timestamp the task has seen; 0 before the first. */
  streamTime = 0;
  /** The numbers the task's processors asked for or set: only these are committed again. */
  private readonly values = new Map<string, number>();
  /** What earlier commits recorded, until a processor asks for it (numbers nobody asks for any more are dropped). */
  private readonly restored = new Map<string, number>();

  get(key: string): number | undefined {
    const value = this.values.get(key) ?? this.restored.get(key);
    if (value !== undefined) this.values.set(key, value);
    return value;
  }

  set(key: string, value: number): void {
    this.values.set(key, value);
  }

  /** True once the processors' numbers did not fit and were left out of the commits. */
  overflowed = false;

  /**
   * The string committed with the task's offsets. When the processors' numbers would not fit the
   * broker's limit, only the stream time is kept (`overflowed`): the operators then start from
   * their records again after a restart, as Kafka Streams' do.
   */
  encode(): string {
    const whole = JSON.stringify({ v: VERSION, t: this.streamTime, p: Object.fromEntries(this.values) });
    if (whole.length <= MAX_LENGTH) return whole;
    this.overflowed = true;
    return JSON.stringify({ v: VERSION, t: this.streamTime, p: {} });
  }

  /**
   * Takes what earlier commits recorded (one string per input partition of the task; they agree
   * unless a commit was cut short, so the largest values win). Strings another writer left, or
   * none, are ignored.
   */
  restore(committed: ReadonlyArray<string | null | undefined>): void {
    for (const text of committed) {
      const parsed = parse(text);
      if (parsed === undefined) continue;
      this.streamTime = Math.max(this.streamTime, parsed.t);
      for (const [key, value] of Object.entries(parsed.p)) this.restored.set(key, Math.max(this.restored.get(key) ?? Number.NEGATIVE_INFINITY, value));
    }
  }
}

function parse(text: string | null | undefined): { t: number; p: Record<string, number> } | undefined {
  if (typeof text !== 'string' || !text.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(text) as { v?: unknown; t?: unknown; p?: unknown };
    if (parsed.v !== VERSION || typeof parsed.t !== 'number' || typeof parsed.p !== 'object' || parsed.p === null) return undefined;
    const p: Record<string, number> = {};
    for (const [key, value] of Object.entries(parsed.p)) if (typeof value === 'number' && Number.isFinite(value)) p[key] = value;
    return { t: parsed.t, p };
  } catch {
    return undefined;
  }
}
