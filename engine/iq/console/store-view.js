// Store browser: pick a store (GET /v1/stores), look a key up, scan by prefix or range page by
// page, or fetch a windowed store's windows. The server routes every query to the instances
// that hold the data. `#stores?store=<name>&key=<key>` opens a store and looks the key up.
import { latestOnly } from './latest.js';
import { getJson } from './api.js';
import { el, replace } from './dom.js';
import { errorBox, showError } from './panel.js';
import { entriesTable, keepPagerFocus, lookupAnswer, pager, windowsTable } from './store-results.js';

let fieldCount = 0;

function field(label, attributes) {
  const id = `field-${++fieldCount}`;
  const input = el('input', { id, name: attributes.name, type: 'text', autocomplete: 'off', spellcheck: 'false', ...attributes });
  return { input, element: el('div', { class: 'field' }, el('label', { for: id }, label), input) };
}

function query(path, parameters) {
  const search = new URLSearchParams(Object.entries(parameters).filter(([, v]) => v !== undefined && v !== ''));
  const text = search.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** A time as the windows route takes it: milliseconds, from a number or an ISO 8601 date. */
function millis(text) {
  if (text === '' || /^\d+$/.test(text)) return text;
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? text : String(parsed);
}

/** Loads pages into `slot`, going forward with each answer's `next` cursor and back along those seen. */
function pages(slot, pathFor, render) {
  let cursors = [undefined];
  const show = latestOnly(slot);
  const load = (step) => {
    const draw = (answer) => {
      const go = (direction) => {
        if (direction > 0) cursors.push(answer.next);
        else cursors.pop();
        void load(direction);
      };
      replace(slot, pager(cursors.length, Boolean(answer.next), go), render(answer));
      keepPagerFocus(slot, step);
    };
    return show(() => getJson(pathFor(cursors[cursors.length - 1])), draw, (error) => replace(slot, errorBox(error)));
  };
  return () => {
    cursors = [undefined];
    void load(0);
  };
}

function section(title, form, result) {
  return el('section', { class: 'tool' }, el('h3', {}, title), form, result);
}

function lookupTool(store) {
  const key = field('Key', { name: 'key', required: true });
  const result = el('div', { class: 'result', 'aria-live': 'polite' });
  const show = latestOnly(result);
  const run = () =>
    show(
      () => getJson(`v1/stores/${encodeURIComponent(store)}/keys/${encodeURIComponent(key.input.value)}`),
      (answer) => replace(result, lookupAnswer(answer)),
      (error) => replace(result, errorBox(error)),
    );
  const form = el('form', { class: 'inline', 'data-tool': 'lookup', onsubmit: (e) => (e.preventDefault(), void run()) }, key.element, el('button', { type: 'submit' }, 'Look up'));
  return { element: section('Look up a key', form, result), lookup: (text) => ((key.input.value = text), void run()) };
}

/** A form of `fields` and a page size whose answers come page by page below it. */
function pagedTool(title, tool, button, fields, pathFor, render) {
  const limit = field('Page size', { name: 'limit', type: 'number', min: 1, max: 1000, value: 20, inputmode: 'numeric' });
  const result = el('div', { class: 'result', 'aria-live': 'polite' });
  const value = (name) => (name === 'limit' ? limit : fields[name]).input.value;
  const start = pages(result, (cursor) => pathFor(value, cursor), render);
  const form = el('form', { class: 'inline', 'data-tool': tool, onsubmit: (e) => (e.preventDefault(), start()) }, Object.values(fields).map((f) => f.element), limit.element, el('button', { type: 'submit' }, button));
  return section(title, form, result);
}

function scanTool(store) {
  const fields = { prefix: field('Prefix', { name: 'prefix' }), from: field('From (inclusive)', { name: 'from' }), to: field('To (exclusive)', { name: 'to' }) };
  const pathFor = (value, cursor) => query(`v1/stores/${encodeURIComponent(store)}/range`, { prefix: value('prefix'), from: value('from'), to: value('to'), limit: value('limit'), cursor });
  return pagedTool('Scan by prefix or range', 'scan', 'Scan', fields, pathFor, (answer) => entriesTable(`Entries of ${store}`, answer.entries));
}

function windowsTool(store) {
  const fields = { key: field('Key (empty: every key)', { name: 'key' }), from: field('From (ms or ISO date)', { name: 'from' }), to: field('To (ms or ISO date)', { name: 'to' }) };
  const pathFor = (value, cursor) =>
    query(`v1/stores/${encodeURIComponent(store)}/windows`, { key: value('key'), from: millis(value('from')), to: millis(value('to')), ...(value('key') === '' ? { limit: value('limit'), cursor } : {}) });
  return pagedTool('Fetch windows', 'windows', 'Fetch windows', fields, pathFor, (answer) => windowsTable(`Windows of ${store}`, answer.windows));
}

function describeStore(store) {
  if (!store) return 'Not a store this server lists: queries will say why.';
  const parts = [`key ${store.keySerde}`, `value ${store.valueSerde}`, store.global ? 'global (a whole copy here)' : `${store.partitions ?? '?'} partitions`, store.partitionedByKey ? 'a key lives in one partition' : 'a key may be in any partition'];
  if (store.windowed) parts.push(`${store.windowed.kind} windows`);
  return parts.join(' · ');
}

export function storeView(container, parameters) {
  const errors = el('div', { class: 'errors' });
  const select = el('select', { id: 'store-select', name: 'store' });
  const info = el('p', { class: 'hint', id: 'store-info' });
  const tools = el('div', { class: 'tools' });
  replace(container, el('h2', {}, 'Stores'), errors, el('div', { class: 'field' }, el('label', { for: 'store-select' }, 'Store'), select), info, tools);
  let stores = [];
  const open = (name) => {
    const store = stores.find((s) => s.name === name);
    info.textContent = describeStore(store);
    history.replaceState(null, '', `#stores?store=${encodeURIComponent(name)}`);
    const lookup = store?.windowed ? undefined : lookupTool(name);
    replace(tools, store?.windowed ? windowsTool(name) : [lookup.element, scanTool(name)]);
    return lookup;
  };
  select.addEventListener('change', () => open(select.value));
  void (async () => {
    try {
      stores = (await getJson('v1/stores')).stores;
    } catch (error) {
      showError(errors, error);
    }
    const asked = parameters.get('store');
    const names = stores.map((s) => s.name);
    if (asked && !names.includes(asked)) names.push(asked);
    replace(select, names.map((n) => el('option', { value: n, selected: n === asked }, n)));
    if (names.length === 0) return;
    const lookup = open(asked ?? names[0]);
    const key = parameters.get('key');
    if (key !== null && lookup) lookup.lookup(key);
  })();
  return () => undefined;
}
