import { applicationTopics } from '../runtime/application-topics.ts';
import type { CompiledTopology } from '../topology/compiled.ts';

/** What `sluice run` says once the application has started (the JSON log line carries the same). */
export interface StartupSummary {
  application: string;
  guarantee: string;
  reads: string[];
  writes: string[];
  deadLetters: string[];
  stores: string[];
  internalTopics: string[];
  /** The interactive-query API, when the query server runs. */
  queries?: string;
}

/** The summary of a started application. */
export function startupSummary(topology: CompiledTopology, guarantee: string, endpoint: string | undefined): StartupSummary {
  const topics = applicationTopics(topology);
  return {
    application: topology.applicationId,
    guarantee,
    reads: topics.sources,
    writes: [...topics.outputs, ...(topics.outputsChosenPerRecord ? ['(topics chosen per record)'] : []), ...topics.externalWriters.map((w) => `${w.name} (${w.operator})`)],
    deadLetters: topics.deadLetters,
    stores: topology.stores.map((s) => s.name),
    internalTopics: topics.internal,
    ...(endpoint ? { queries: `${endpoint}/v1/stores` } : {}),
  };
}

/** The summary as a few readable lines, for a terminal. */
export function summaryText(summary: StartupSummary): string {
  const always = (values: string[]) => (values.length > 0 ? values : ['none']);
  const rows: Array<[string, string[]]> = [
    ['reads', always(summary.reads)],
    ['writes', always(summary.writes)],
    ['dead letters', summary.deadLetters],
    ['stores', always(summary.stores)],
    ['internal', summary.internalTopics],
    ['queries', [summary.queries ?? 'off (pass --http-port to serve them)']],
  ];
  const lines = rows.filter(([, values]) => values.length > 0).map(([label, values]) => `  ${label.padEnd(12)} ${values.join(', ')}`);
  return `${summary.application} is running (${summary.guarantee})\n${lines.join('\n')}\n`;
}
