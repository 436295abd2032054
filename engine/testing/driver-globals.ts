import type { GlobalTables } from '../runtime/global/global-tables.ts';
import type { CompiledGlobalStore, CompiledTopology } from '../topology/compiled.ts';
import type { TopicLog } from './topic-log.ts';

/**
 * The test driver's global tables: records written to a global table's topic (by the test or by
 * the topology) are applied to its store at once, in the order written, so the next record
 * processed sees them, as an application's global tables do once they have caught up.
 */
export class DriverGlobals {
  readonly tables: GlobalTables;
  private readonly log: TopicLog;
  private readonly specs: readonly CompiledGlobalStore[];
  /** Per global topic: how many of its records are applied. */
  private readonly applied = new Map<string, number>();

  constructor(tables: GlobalTables, log: TopicLog, topology: CompiledTopology) {
    this.tables = tables;
    this.log = log;
    this.specs = topology.globalStores;
  }

  /** The global store that reads `topic`, if any. */
  readerOf(topic: string): CompiledGlobalStore | undefined {
    return this.specs.find((s) => s.changelogTopic === topic);
  }

  /** The global topics' names. */
  get topics(): string[] {
    return this.specs.map((s) => s.changelogTopic);
  }

  /** Applies what was written to the global topics since the last call. */
  async catchUp(): Promise<void> {
    for (const topic of this.topics) {
      const from = this.applied.get(topic) ?? 0;
      const records = this.log.records(topic, from);
      if (records.length === 0) continue;
      this.applied.set(topic, from + records.length);
      await this.tables.apply(records);
    }
  }
}
