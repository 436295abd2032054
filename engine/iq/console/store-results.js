// How the store browser shows answers: a key's value, and pages of entries or windows, values
// as indented JSON.
import { el } from './dom.js';
import { json } from './format.js';
import { fact } from './panel.js';

const keyText = (key) => (typeof key === 'string' ? key : json(key));
const valueCell = (value) => el('pre', { class: 'json' }, json(value));

/** The answer of GET /v1/stores/{store}/keys/{key}. */
export function lookupAnswer(answer) {
  const also = answer.alsoIn ?? [];
  return el(
    'div',
    { class: 'answer' },
    el('dl', { class: 'facts' }, fact('Key', keyText(answer.key)), fact('Partition', String(answer.partition)), fact('Instance', answer.instance), answer.stale ? fact('Stale copy, lag', String(answer.lag)) : null),
    valueCell(answer.value),
    also.length === 0 ? null : [el('p', {}, 'Also in:'), entriesTable('Other partitions holding the key', also.map((a) => ({ ...a, key: answer.key })))],
  );
}

function tableOf(caption, headings, rows) {
  return el(
    'div',
    { class: 'scroll' },
    el('table', { class: 'entries' }, el('caption', {}, caption), el('thead', {}, el('tr', {}, headings.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c) => el('td', {}, c)))))),
  );
}

/** Entries of a scan: key, value, partition, instance. */
export function entriesTable(caption, entries) {
  if (entries.length === 0) return el('p', { class: 'empty' }, 'No entries.');
  return tableOf(caption, ['Key', 'Value', 'Partition', 'Instance'], entries.map((e) => [keyText(e.key), valueCell(e.value), String(e.partition), e.instance]));
}

const time = (ms) => new Date(ms).toISOString();

/** Windows of a windowed store: key, window, value, partition. */
export function windowsTable(caption, windows) {
  if (windows.length === 0) return el('p', { class: 'empty' }, 'No windows.');
  return tableOf(caption, ['Key', 'Window', 'Value', 'Partition'], windows.map((w) => [keyText(w.key), `${time(w.window.start)} – ${time(w.window.end)}`, valueCell(w.value), String(w.partition)]));
}

/** Previous and next buttons around the page number. */
export function pager(page, hasNext, go) {
  return el(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    el('button', { type: 'button', disabled: page === 1, onclick: () => go(-1) }, '← Previous page'),
    el('span', { 'aria-live': 'polite' }, `Page ${page}`),
    el('button', { type: 'button', disabled: !hasNext, onclick: () => go(1) }, 'Next page →'),
  );
}

/** After a page loads in `slot`: a keyboard user stays on the pager button they pressed (`step` -1 or 1), or the other when it is disabled now. */
export function keepPagerFocus(slot, step) {
  const buttons = slot.querySelectorAll('.pager button');
  const wanted = step > 0 ? buttons[1] : step < 0 ? buttons[0] : undefined;
  if (wanted) (wanted.disabled ? [...buttons].find((b) => !b.disabled) : wanted)?.focus();
}
