import type { ResetReport } from '../runtime/reset.ts';

/** What a reset did and did not touch, one line each, for the person who ran it. */
export function resetText(report: ResetReport, deletedState: string | undefined): string {
  const list = (names: string[]) => names.join(', ') || 'none';
  const { untouched } = report;
  const lines = [
    `Reset ${report.group}:`,
    `  deleted    committed offsets: ${report.offsetsDeleted ? `those of group ${report.group} (the next run starts from the earliest records)` : 'none were committed'}`,
    `  deleted    internal topics: ${list(report.deletedTopics)}`,
    ...(report.deletedOutputTopics.length > 0 ? [`  deleted    output topics: ${report.deletedOutputTopics.map((t) => `${t.name} (${t.partitions} partitions)`).join(', ')}`] : []),
    ...(report.missingOutputTopics.length > 0 ? [`  not found  output topics: ${list(report.missingOutputTopics)}`] : []),
    `  deleted    local state: ${deletedState ?? 'none on this machine'}`,
    `  untouched  source topics: ${list(untouched.sources)} (the next run reads them again)`,
    `  untouched  output topics: ${list(untouched.outputs)}${untouched.outputsChosenPerRecord ? ' and those chosen per record' : ''}` +
      (untouched.outputs.length > 0 || untouched.outputsChosenPerRecord ? ' (the next run appends to them; --output-topics deletes them)' : ''),
    ...(untouched.deadLetters.length > 0 ? [`  untouched  dead-letter topics: ${list(untouched.deadLetters)}`] : []),
    ...(untouched.externalWriters.length > 0
      ? [`  untouched  what ${untouched.externalWriters.map((w) => `${w.name} (${w.operator})`).join(', ')} wrote outside Kafka: clear it yourself if the rebuild must start empty`]
      : []),
  ];
  if (report.deletedOutputTopics.length > 0) {
    lines.push(`Create the output topics again before the next run, e.g.: ${report.deletedOutputTopics.map((t) => `sluice topics create ${t.name} --partitions ${t.partitions}`).join('; ')}`);
  }
  return lines.join('\n') + '\n';
}
