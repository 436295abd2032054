// Numbers over time for the instances view: the last readings of each partition's lag drawn as
// a sparkline, and restoration's progress with the time it has left. Pure: readings in, SVG
// elements and numbers out.
import { svg } from './dom.js';

/** The last `size` readings of each series (a topic and partition's lag, say). */
export class Series {
  constructor(size = 60) {
    this.size = size;
    this.values = new Map();
  }

  add(key, value) {
    const values = this.values.get(key) ?? [];
    values.push(value);
    if (values.length > this.size) values.shift();
    this.values.set(key, values);
    return values;
  }

  /** Forgets the series not in `keys` (partitions no longer here). */
  keep(keys) {
    for (const key of [...this.values.keys()]) if (!keys.has(key)) this.values.delete(key);
  }
}

/** The points of a sparkline: `values` left to right over `width`, 0 at the bottom, the largest at the top. */
export function sparkPoints(values, width, height) {
  const top = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / top) * (height - 2)).toFixed(1)}`).join(' ');
}

/** A small line chart of `values`, labelled for screen readers with what it shows. */
export function sparkline(values, label) {
  const width = 120;
  const height = 24;
  return svg(
    'svg',
    { class: 'sparkline', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label, 'data-points': values.length },
    svg('polyline', { points: sparkPoints(values, width, height) }),
  );
}

/**
 * Restoration's progress from the counters of /metrics: records restored in all (a counter) and
 * records left (a gauge). A restoration starts when records are left again; its share done is
 * counted from the restored total at its start. Returns undefined when nothing is left.
 */
export class Restoration {
  constructor() {
    this.start = undefined;
  }

  /** `rate`: records restored per second since the last reading (undefined at the first). */
  update(restored, remaining, rate) {
    if (!remaining) {
      this.start = undefined;
      return undefined;
    }
    this.start ??= restored ?? 0;
    const done = Math.max(0, (restored ?? 0) - this.start);
    return { done, remaining, share: done / (done + remaining), secondsLeft: rate ? remaining / rate : undefined };
  }
}

/** Seconds as people read a time left: `45 s`, `3 min 20 s`, `2 h 5 min`. */
export function duration(seconds) {
  if (seconds === undefined || !Number.isFinite(seconds)) return 'unknown yet';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
