// Numbers as people read them.

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

export function count(n) {
  return n === undefined ? '–' : integer.format(n);
}

export function perSecond(n) {
  return n === undefined ? '–' : `${n < 10 ? decimal.format(n) : integer.format(n)} rec/s`;
}

export function bytes(n) {
  if (n === undefined) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? integer.format(value) : decimal.format(value)} ${units[unit]}`;
}

export function milliseconds(ms) {
  if (ms === undefined) return '–';
  return ms < 1000 ? `${decimal.format(ms)} ms` : `${decimal.format(ms / 1000)} s`;
}

/** A value as indented JSON. */
export function json(value) {
  return JSON.stringify(value, null, 2) ?? 'undefined';
}
