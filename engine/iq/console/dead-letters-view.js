// Dead letters: the records of the application's dead-letter topics (GET /v1/dead-letters),
// newest first and page by page, with why each failed and where it came from; chosen ones are
// replayed to their source topic after a confirmation (POST /v1/dead-letters/replay) or marked
// handled (POST /v1/dead-letters/handled).
import { latestOnly } from './latest.js';
import { getJson, postJson } from './api.js';
import { el, replace } from './dom.js';
import { json } from './format.js';
import { errorBox, fact, showError } from './panel.js';
import { keepPagerFocus, pager } from './store-results.js';

const idText = (r) => `${r.topic}/${r.partition}/${r.offset}`;
const idOf = (r) => ({ topic: r.topic, partition: r.partition, offset: r.offset });

/** Decoded bytes as the server gives them: JSON indented, text as it is, else base64. */
function bytesText(shown) {
  if (shown === null) return 'null';
  if ('json' in shown) return json(shown.json);
  if ('text' in shown) return shown.text;
  return `base64: ${shown.base64}`;
}

function status(record) {
  const h = record.handled;
  if (!h) return el('span', { class: 'status open' }, 'open');
  if (h.action === 'replayed') return el('span', { class: 'status closed' }, `replayed to ${h.to.topic}[${h.to.partition}]@${h.to.offset}`, el('br'), el('small', {}, h.at));
  return el('span', { class: 'status closed' }, 'handled', el('br'), el('small', {}, h.at));
}

function details(record) {
  return el(
    'details',
    {},
    el('summary', {}, 'Key and headers'),
    el('dl', { class: 'facts' }, fact('Key', el('pre', { class: 'json' }, bytesText(record.key))), record.truncated ? fact('Cut to fit', record.truncated) : null),
    el('ul', { class: 'headers' }, record.headers.map((h) => el('li', {}, el('code', {}, h.name), ' = ', h.text ?? `base64: ${h.base64}`))),
  );
}

function row(record, selected, onToggle) {
  const id = idText(record);
  const box = el('input', { type: 'checkbox', 'aria-label': `Select ${id}`, checked: selected.has(id), onchange: (e) => onToggle(record, e.target.checked) });
  const source = record.source ? `${record.source.topic}[${record.source.partition}]@${record.source.offset}` : '–';
  const error = record.error;
  return el(
    'tr',
    { 'data-dead-letter': id, class: record.handled ? 'handled' : '' },
    el('td', {}, box),
    el('td', {}, new Date(record.timestamp).toISOString().replace('T', ' ').replace('Z', ''), el('br'), el('small', {}, id)),
    el('td', {}, source),
    el('td', { class: 'failure' }, el('strong', {}, error.class ?? '?'), ` in ${error.operator ?? '?'} (${error.stage ?? '?'})`, el('br'), error.message ?? ''),
    el('td', {}, el('pre', { class: 'json' }, bytesText(record.value)), details(record)),
    el('td', {}, status(record)),
  );
}

function recordsTable(records, selected, onToggle) {
  if (records.length === 0) return el('p', { class: 'empty' }, 'No dead letters.');
  const headings = ['Select', 'Time (UTC) · dead letter', 'Source', 'Error', 'Value', 'Status'];
  return el(
    'div',
    { class: 'scroll' },
    el('table', { class: 'dead-letters' }, el('caption', {}, 'Dead letters, newest first'), el('thead', {}, el('tr', {}, headings.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, records.map((r) => row(r, selected, onToggle)))),
  );
}

function outcomeOf(answer) {
  if (answer.replayed) {
    const lines = answer.replayed.map((r) => `${idText(r.deadLetter)} → ${r.to.topic}[${r.to.partition}]@${r.to.offset}`);
    return [`Replayed ${lines.length} record${lines.length === 1 ? '' : 's'}: `, lines.join(', ')];
  }
  return [`Marked ${answer.records.length} record${answer.records.length === 1 ? '' : 's'} handled: `, answer.records.map(idText).join(', ')];
}

export function deadLettersView(container) {
  const errors = el('div', { class: 'errors' });
  const topic = el('select', { id: 'dead-letter-topic', name: 'topic' }, el('option', { value: '' }, 'All dead-letter topics'));
  const limit = el('input', { id: 'dead-letter-limit', name: 'limit', type: 'number', min: 1, max: 200, value: 20, inputmode: 'numeric' });
  const form = el(
    'form',
    { class: 'inline', 'data-tool': 'dead-letters', onsubmit: (e) => (e.preventDefault(), start()) },
    el('div', { class: 'field' }, el('label', { for: 'dead-letter-topic' }, 'Topic'), topic),
    el('div', { class: 'field' }, el('label', { for: 'dead-letter-limit' }, 'Page size'), limit),
    el('button', { type: 'submit' }, 'Show'),
  );
  const replayButton = el('button', { type: 'button', 'data-action': 'replay', disabled: true, onclick: () => confirmReplay() }, 'Replay selected…');
  const markButton = el('button', { type: 'button', 'data-action': 'mark', disabled: true, onclick: () => void act('v1/dead-letters/handled') }, 'Mark handled');
  const confirmation = el('div', { class: 'confirm', hidden: true });
  const outcome = el('div', { class: 'outcome', 'aria-live': 'polite' });
  const result = el('div', { class: 'result', 'aria-live': 'polite' });
  replace(
    container,
    el('h2', {}, 'Dead letters'),
    el('p', { class: 'hint' }, 'Records the error handlers sent to a dead-letter topic. Replay writes a record\u2019s original key, value and headers back to the topic it failed in, with sluice.replayed-from and sluice.replayed-at headers.'),
    errors,
    form,
    el('div', { class: 'actions' }, replayButton, markButton),
    confirmation,
    outcome,
    result,
  );
  const selected = new Map();
  let cursors = [undefined];
  let topicsKnown = false;

  const refreshButtons = () => {
    replayButton.disabled = selected.size === 0;
    markButton.disabled = selected.size === 0;
    replayButton.textContent = selected.size === 0 ? 'Replay selected…' : `Replay ${selected.size} selected…`;
  };
  const toggle = (record, on) => {
    if (on) selected.set(idText(record), record);
    else selected.delete(idText(record));
    refreshButtons();
  };

  const show = latestOnly(result);
  const load = (step) => {
    const search = new URLSearchParams({ limit: limit.value });
    if (topic.value) search.set('topic', topic.value);
    const cursor = cursors[cursors.length - 1];
    if (cursor) search.set('cursor', cursor);
    const draw = (answer) => {
      if (!topicsKnown) {
        topicsKnown = true;
        topic.append(...answer.topics.map((t) => el('option', { value: t }, t)));
      }
      if (answer.topics.length === 0) {
        replace(result, el('p', { class: 'empty' }, 'This application has no dead-letter topic: no error handler sends records to one.'));
        return;
      }
      const go = (direction) => {
        if (direction > 0) cursors.push(answer.next);
        else cursors.pop();
        void load(direction);
      };
      replace(result, pager(cursors.length, Boolean(answer.next), go), recordsTable(answer.records, selected, toggle));
      keepPagerFocus(result, step);
      showError(errors, undefined);
    };
    return show(() => getJson(`v1/dead-letters?${search}`), draw, (error) => replace(result, errorBox(error)));
  };
  const start = () => {
    cursors = [undefined];
    void load(0);
  };

  const act = async (path) => {
    const records = [...selected.values()];
    confirmation.hidden = true;
    try {
      const answer = await postJson(path, { records: records.map(idOf) });
      replace(outcome, el('p', { class: 'done', role: 'status' }, outcomeOf(answer)));
      selected.clear();
      refreshButtons();
      void load(0);
    } catch (error) {
      replace(outcome, errorBox(error));
    }
  };

  const confirmReplay = () => {
    const records = [...selected.values()];
    const cancel = el('button', { type: 'button', class: 'secondary', onclick: () => ((confirmation.hidden = true), replayButton.focus()) }, 'Cancel');
    replace(
      confirmation,
      el('p', {}, el('strong', {}, `Replay ${records.length} record${records.length === 1 ? '' : 's'}?`), ' Each is written again to its source topic and processed again:'),
      el('ul', {}, records.map((r) => el('li', {}, `${idText(r)} → ${r.source ? `${r.source.topic}[${r.source.partition}]` : 'no source'}${r.handled ? ` (already ${r.handled.action})` : ''}`))),
      el('div', { class: 'actions' }, el('button', { type: 'button', 'data-action': 'confirm-replay', onclick: () => void act('v1/dead-letters/replay') }, 'Replay'), cancel),
    );
    confirmation.hidden = false;
    confirmation.querySelector('button').focus();
  };

  start();
  return () => undefined;
}
