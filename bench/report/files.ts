/** Writes a stream workload's Markdown table and SVG chart beside its JSON results file. */
import fs from 'node:fs';
import { svgChart } from './chart.ts';
import { markdownTable } from './markdown.ts';
import type { StreamReport } from './types.ts';

/** `<name>.json` → `<name>.md` and `<name>.svg`; returns the Markdown. */
export function writeReportFiles(report: StreamReport, jsonPath: string): string {
  const base = jsonPath.replace(/\.json$/, '');
  const markdown = markdownTable(report);
  fs.writeFileSync(`${base}.md`, markdown);
  fs.writeFileSync(`${base}.svg`, svgChart(report));
  return markdown;
}
