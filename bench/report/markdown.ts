/** A stream workload's results as a Markdown table: throughput, latency, memory, and the ratios. */
import type { StreamReport } from './types.ts';

/** The records a report's inputs hold: `1,000,000 records`, or with a second input `1,000,000 records + 100,000 customers`. */
export function inputsLabel(p: StreamReport['params']): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return p.secondInput ? `${n(p.records)} records + ${n(p.secondInput.records)} ${p.secondInput.name}` : `${n(p.records)} records`;
}

export const partitionsLabel = (n: number) => `${n} partition${n === 1 ? '' : 's'}`;
const ratio = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(2)}×`);
/** A ratio to a workload's bound; a small one (a sequential loop's) keeps its first significant digits. */
export const boundRatio = (x: number) => (x < 0.01 ? String(x) : x.toFixed(2));
const ms = (x: number | undefined) => (x === undefined ? '—' : String(Math.round(x)));

export function markdownTable(report: StreamReport): string {
  const p = report.params;
  const openLoop = p.ratePerSec !== undefined;
  const heading =
    `${report.workload}: ${inputsLabel(p)}, ${p.keys.toLocaleString('en-US')} keys, ${partitionsLabel(p.partitions)}, ` +
    (openLoop ? `open loop at ${Number(p.ratePerSec).toLocaleString('en-US')} records/s, round with the lowest p99 of ${String(p.rounds)}` : `best of ${String(p.rounds)}`);
  // A workload with a bound gets a column with each system's ratio to it.
  const bound = p.bound;
  const lines = [
    heading + (bound ? `; bound ${bound.recordsPerSec.toLocaleString('en-US')} records/s (${bound.what})` : ''),
    '',
    '| system | records/s | seconds | p50 ms | p99 ms | peak RSS MB | vs raw-client | vs kafka-streams |' + (bound ? ' vs bound |' : ''),
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |' + (bound ? ' ---: |' : ''),
  ];
  const skipped: string[] = [];
  const partOfInput: string[] = [];
  for (const r of report.results) {
    if (r.recordsPerSec === null || r.seconds === null) {
      lines.push(`| ${r.system} | skipped | | | | | | |` + (bound ? ' |' : ''));
      skipped.push(`- ${r.system}: ${r.reason ?? 'skipped'}`);
      continue;
    }
    if (r.incomplete) skipped.push(`- ${r.system}: ${r.incomplete}`);
    lines.push(
      `| ${r.system}${r.incomplete ? ' (partial)' : ''} | ${r.recordsPerSec.toLocaleString('en-US')} | ${r.seconds.toFixed(2)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${r.peakRssMb ?? '—'} | ${ratio(r.vsRawClient)} | ${ratio(r.vsKafkaStreams)} |` +
        (bound ? ` ${r.vsBound === undefined ? '—' : `${boundRatio(r.vsBound)}×`} |` : ''),
    );
    if (r.prefix) partOfInput.push(`- ${r.system}: ${r.prefix}`);
  }
  if (skipped.length > 0) lines.push('', 'Skipped or incomplete:', '', ...skipped);
  if (partOfInput.length > 0) lines.push('', 'Timed over part of the input:', '', ...partOfInput);
  return lines.join('\n') + '\n';
}
