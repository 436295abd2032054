// Conflicts: the stores that take resolutions (GET /v1/stores lists a POST .../resolutions route
// with them) and the conflicts they hold, each attribute with both sides; a person keeps the
// current value, takes the incoming one or enters another, and the page posts the resolution to
// the store's route, then reads the store until the conflict is gone.
import { latestOnly } from './latest.js';
import { ApiError, getJson, postJson } from './api.js';
import { el, replace } from './dom.js';
import { json } from './format.js';
import { errorBox, fact, showError } from './panel.js';

const PAGE = 50;
const OUTCOME_WAIT_MS = 30_000;

let formCount = 0;

/** The stores with a resolutions route, and the route's path (relative to the page's API root). */
function resolvable(stores) {
  return stores.flatMap((s) => {
    const route = (s.routes ?? []).find((r) => r.method === 'POST' && r.path.endsWith('/resolutions'));
    return route ? [{ name: s.name, path: route.path.replace(/^\//, '') }] : [];
  });
}

const valueText = (value) => (typeof value === 'string' ? value : json(value));

function side(state, extra) {
  return el('div', { class: 'side' }, el('pre', { class: 'json' }, valueText(state.value)), el('small', {}, extra));
}

/** One attribute's row: both sides and the choice, as radio buttons and a value field. */
function attributeRow(conflict, prefix) {
  const name = `${prefix}-${conflict.attribute}`;
  const radio = (value, label, checked) => {
    const id = `${name}-${value}`;
    return el('label', { for: id, class: 'choice' }, el('input', { type: 'radio', id, name, value, checked }), ` ${label}`);
  };
  const entered = el('textarea', { name: `${name}-value`, rows: 2, 'aria-label': `Value of ${conflict.attribute} (JSON, or text)`, spellcheck: 'false' }, valueText(conflict.incoming.value));
  const current = conflict.current;
  const incoming = conflict.incoming;
  return el(
    'tr',
    { 'data-attribute': conflict.attribute },
    el('th', { scope: 'row' }, conflict.attribute),
    el('td', {}, side(current, `version ${current.version}, ${current.timestamp}, by ${current.mutation}`)),
    el('td', {}, side(incoming, `${incoming.timestamp}, priority ${incoming.priority}`)),
    el('td', { class: 'choices' }, radio('current', 'Keep current', true), radio('incoming', 'Take incoming', false), radio('value', 'This value:', false), entered),
  );
}

/** What the form says for each attribute: "current", "incoming" or { value } (JSON when it parses, else the text). */
function choicesOf(form, conflicts, prefix) {
  const choices = {};
  for (const c of conflicts) {
    const name = `${prefix}-${c.attribute}`;
    const picked = form.querySelector(`input[name="${CSS.escape(name)}"]:checked`)?.value ?? 'current';
    if (picked !== 'value') {
      choices[c.attribute] = picked;
      continue;
    }
    const text = form.querySelector(`textarea[name="${CSS.escape(`${name}-value`)}"]`).value;
    let value;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    choices[c.attribute] = { value };
  }
  return choices;
}

/** Reads the store until the conflict is gone (the resolution applied, or refused) or the wait ends. */
async function waitForOutcome(store, id) {
  const deadline = Date.now() + OUTCOME_WAIT_MS;
  while (Date.now() < deadline) {
    try {
      await getJson(`v1/stores/${encodeURIComponent(store.name)}/keys/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'key-not-found') return true;
      if (!(error instanceof ApiError) || error.status !== 503) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
}

function conflictCard(store, entry, onDone) {
  const open = entry.value;
  const prefix = `conflict-${++formCount}`;
  const by = el('input', { id: `${prefix}-by`, name: 'resolved_by', value: 'console', autocomplete: 'off' });
  const status = el('div', { class: 'outcome', 'aria-live': 'polite' });
  const submit = el('button', { type: 'submit' }, 'Resolve');
  const form = el(
    'form',
    {
      'data-conflict': open.mutation_id,
      onsubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        const body = { mutation_id: open.mutation_id, entity_type: open.entity_type, entity_id: open.entity_id, choices: choicesOf(form, open.conflicts, prefix), resolved_by: by.value || 'console' };
        try {
          const written = await postJson(store.path, body);
          replace(status, el('p', { class: 'pending', role: 'status' }, `Sent (${written.topic}[${written.partition}]@${written.offset}); waiting for the outcome…`));
          const closed = await waitForOutcome(store, open.mutation_id);
          replace(status, closed ? el('p', { class: 'done', role: 'status' }, `Resolved: the conflict on ${open.entity_type}:${open.entity_id} is closed.`) : el('p', { class: 'pending', role: 'status' }, 'Still open after 30 s: the resolution may have been refused (an attribute changed again); see the status topic.'));
          if (closed) onDone();
        } catch (error) {
          replace(status, errorBox(error));
        } finally {
          submit.disabled = false;
        }
      },
    },
    el('div', { class: 'scroll' }, el('table', { class: 'conflict' }, el('caption', {}, 'Attributes in conflict'), el('thead', {}, el('tr', {}, ['Attribute', 'Current', 'Incoming', 'Decision'].map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, open.conflicts.map((c) => attributeRow(c, prefix))))),
    el('div', { class: 'actions' }, el('div', { class: 'field' }, el('label', { for: `${prefix}-by` }, 'Resolved by'), by), submit),
    status,
  );
  return el(
    'article',
    { class: 'card' },
    el('h3', {}, `${open.entity_type}:${open.entity_id}`),
    el('dl', { class: 'facts' }, fact('Held back', open.mutation_id), fact('Its base version', String(open.base_version)), fact('Entity version', String(open.entity_version)), fact('Sent at', open.timestamp)),
    form,
  );
}

/** An entry that is not a conflict with attributes: shown as it is, with nothing to decide. */
function unknownEntry(entry) {
  return el('article', { class: 'card' }, el('h3', {}, typeof entry.key === 'string' ? entry.key : json(entry.key)), el('p', { class: 'hint' }, 'Not a conflict this page can show: its value has no list of attributes in conflict.'), el('pre', { class: 'json' }, json(entry.value)));
}

export function conflictsView(container, parameters) {
  const errors = el('div', { class: 'errors' });
  const select = el('select', { id: 'conflict-store', name: 'store' });
  const list = el('div', { class: 'cards', 'aria-live': 'polite' });
  const refresh = el('button', { type: 'button', class: 'secondary', 'data-action': 'refresh', onclick: () => void load() }, 'Refresh');
  replace(
    container,
    el('h2', {}, 'Conflicts'),
    el('p', { class: 'hint' }, 'Conflicts left for a person, from the stores that take resolutions. A resolution goes to the store\u2019s resolutions route; the conflict leaves the list once it is applied.'),
    errors,
    el('div', { class: 'actions' }, el('div', { class: 'field' }, el('label', { for: 'conflict-store' }, 'Store'), select), refresh),
    list,
  );
  let stores = [];
  const current = () => stores.find((s) => s.name === select.value);
  const show = latestOnly(list);
  const load = async () => {
    const store = current();
    if (!store) return;
    const draw = (answer) => {
      replace(list, answer.entries.length === 0 ? el('p', { class: 'empty' }, 'No open conflicts.') : answer.entries.map((e) => (Array.isArray(e.value?.conflicts) ? conflictCard(store, e, () => setTimeout(() => void load(), 2000)) : unknownEntry(e))));
      if (answer.next) list.append(el('p', { class: 'hint' }, `The first ${PAGE} are shown; resolve some to see more.`));
      showError(errors, undefined);
    };
    await show(() => getJson(`v1/stores/${encodeURIComponent(store.name)}/range?limit=${PAGE}`), draw, (error) => showError(errors, error));
  };
  select.addEventListener('change', () => {
    history.replaceState(null, '', `#conflicts?store=${encodeURIComponent(select.value)}`);
    void load();
  });
  void (async () => {
    try {
      stores = resolvable((await getJson('v1/stores')).stores);
    } catch (error) {
      showError(errors, error);
      return;
    }
    if (stores.length === 0) {
      replace(list, el('p', { class: 'empty' }, 'No store of this application takes resolutions.'));
      return;
    }
    const asked = parameters.get('store');
    replace(select, stores.map((s) => el('option', { value: s.name, selected: s.name === asked }, s.name)));
    void load();
  })();
  return () => undefined;
}
