/**
 * A stream workload's results as an SVG bar chart, drawn here rather than with a charting
 * dependency: records/s per system (with its ratios to raw-client, kafka-streams and the
 * workload's bound, where there are any) and, for open-loop runs, the p50 and p99 latency.
 * Skipped systems keep their row, marked skipped.
 */
import { boundRatio, inputsLabel, partitionsLabel } from './markdown.ts';
import type { ReportEntry, StreamReport } from './types.ts';

const ROW = 26;
const LABEL = 150;
const BAR = 360;
const TEXT = 190;
const WIDTH = LABEL + BAR + TEXT;
const COLOURS: Record<string, string> = { sluice: '#1f77b4', 'raw-client': '#7f7f7f', 'kafka-streams': '#d62728', 'quix-streams': '#2ca02c', 'kafkats-flow': '#ff7f0e' };

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const colour = (system: string) => COLOURS[system] ?? '#9467bd';

interface Panel {
  title: string;
  value: (r: ReportEntry) => number | undefined;
  label: (r: ReportEntry) => string;
  /** A second, lighter bar behind the first (p99 behind p50). */
  behind?: (r: ReportEntry) => number | undefined;
}

function panel(results: ReportEntry[], spec: Panel, top: number): { svg: string; height: number } {
  const values = results.flatMap((r) => [spec.value(r), spec.behind?.(r)]).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const max = Math.max(1, ...values);
  const parts = [`<text x="0" y="${top + 14}" font-weight="bold">${escape(spec.title)}</text>`];
  results.forEach((r, i) => {
    const y = top + 24 + i * ROW;
    parts.push(`<text x="${LABEL - 8}" y="${y + 15}" text-anchor="end">${escape(r.system + (r.incomplete ? " (partial)" : ""))}</text>`);
    const value = spec.value(r);
    if (value === undefined) {
      parts.push(`<text x="${LABEL + 4}" y="${y + 15}" fill="#999">${r.skipped ? 'skipped' : 'not measured'}</text>`);
      return;
    }
    const behind = spec.behind?.(r);
    let end = (value / max) * BAR;
    if (behind !== undefined) {
      end = (behind / max) * BAR;
      parts.push(`<rect x="${LABEL}" y="${y + 3}" width="${end.toFixed(1)}" height="${ROW - 8}" fill="${colour(r.system)}" opacity="0.35"/>`);
    }
    parts.push(`<rect x="${LABEL}" y="${y + 3}" width="${((value / max) * BAR).toFixed(1)}" height="${ROW - 8}" fill="${colour(r.system)}"/>`);
    parts.push(`<text x="${(LABEL + end + 6).toFixed(1)}" y="${y + 15}">${escape(spec.label(r))}</text>`);
  });
  return { svg: parts.join('\n'), height: 24 + results.length * ROW + 16 };
}

export function svgChart(report: StreamReport): string {
  const results = report.results;
  const ratios = (r: ReportEntry) =>
    [
      r.vsRawClient !== undefined ? `${r.vsRawClient.toFixed(2)}× raw` : '',
      r.vsKafkaStreams !== undefined ? `${r.vsKafkaStreams.toFixed(2)}× KS` : '',
      r.vsBound !== undefined ? `${boundRatio(r.vsBound)}× bound` : '',
    ]
      .filter(Boolean)
      .join(', ');
  const panels: Panel[] = [
    {
      title: 'records/s (higher is better)',
      value: (r) => r.recordsPerSec ?? undefined,
      label: (r) => `${(r.recordsPerSec ?? 0).toLocaleString('en-US')}${ratios(r) ? ` (${ratios(r)})` : ''}`,
    },
  ];
  if (results.some((r) => r.p99Ms !== undefined)) {
    panels.push({
      title: 'end-to-end latency, ms: p50 (dark), p99 (light); lower is better',
      value: (r) => r.p50Ms,
      behind: (r) => r.p99Ms,
      label: (r) => `${Math.round(r.p50Ms ?? 0)} / ${Math.round(r.p99Ms ?? 0)} ms`,
    });
  }
  const p = report.params;
  const subtitle =
    `${inputsLabel(p)}, ${p.keys.toLocaleString('en-US')} keys, ${partitionsLabel(p.partitions)}` +
    (p.ratePerSec !== undefined ? `, open loop at ${Number(p.ratePerSec).toLocaleString('en-US')} records/s` : '') +
    (p.bound ? `, bound ${p.bound.recordsPerSec.toLocaleString('en-US')} records/s` : '');
  const body: string[] = [`<text x="0" y="16" font-size="15" font-weight="bold">${escape(report.workload)}</text>`, `<text x="0" y="34" fill="#555">${escape(subtitle)}</text>`];
  let top = 48;
  for (const spec of panels) {
    const { svg, height } = panel(results, spec, top);
    body.push(svg);
    top += height;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH + 20}" height="${top + 10}" viewBox="-10 -4 ${WIDTH + 20} ${top + 10}" font-family="sans-serif" font-size="12">`,
    `<rect x="-10" y="-4" width="${WIDTH + 20}" height="${top + 10}" fill="white"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
