// Reads the Prometheus text of /metrics: each sample's name, labels and value.

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescape(value) {
  return value.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
}

function number(text) {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export class MetricSamples {
  constructor(text) {
    this.samples = [];
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const match = SAMPLE.exec(line);
      if (!match) continue;
      const labels = {};
      for (const [, name, value] of (match[2] ?? '').matchAll(LABEL)) labels[name] = unescape(value);
      this.samples.push({ name: match[1], labels, value: number(match[3]) });
    }
  }

  /** The samples of one metric whose labels include `labels`. */
  of(name, labels = {}) {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The sum of a metric's samples (over threads, partitions...); undefined when it has none. */
  sum(name, labels) {
    const found = this.of(name, labels);
    return found.length === 0 ? undefined : found.reduce((total, s) => total + s.value, 0);
  }

  /** A metric summed per value of one label. */
  sumBy(name, label) {
    const sums = new Map();
    for (const s of this.of(name)) sums.set(s.labels[label], (sums.get(s.labels[label]) ?? 0) + s.value);
    return sums;
  }
}

/** Per-second rates of counters between one reading and the next. */
export class Rates {
  constructor() {
    this.last = new Map();
  }

  /** The rate of `key` since its last reading (undefined at the first, or after a reset). */
  rate(key, value, at) {
    const previous = this.last.get(key);
    this.last.set(key, { value, at });
    if (value === undefined || !previous || previous.value === undefined || at <= previous.at || value < previous.value) return undefined;
    return (value - previous.value) / ((at - previous.at) / 1000);
  }
}
