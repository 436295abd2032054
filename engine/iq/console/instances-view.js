// Instances: every instance of the application (GET /v1/metadata) with its state, its active and
// standby tasks, and, for the instance serving this page (its /metrics), the consumer lag per
// partition with a sparkline of its last readings, commit latency and restoration's progress
// with the time it has left; read again every 2 s.
import { getJson, getText } from './api.js';
import { el, replace } from './dom.js';
import { count, milliseconds, perSecond } from './format.js';
import { MetricSamples, Rates } from './metrics-text.js';
import { every, fact, showError } from './panel.js';
import { Restoration, Series, duration, sparkline } from './trends.js';

function taskOrder(a, b) {
  const [subA, partA] = a.split('_').map(Number);
  const [subB, partB] = b.split('_').map(Number);
  return subA - subB || partA - partB;
}

function table(name, caption, headings, rows, empty) {
  if (rows.length === 0) return el('p', { class: 'empty' }, empty);
  return el(
    'div',
    { class: 'scroll' },
    el('table', { 'data-table': name }, el('caption', {}, caption), el('thead', {}, el('tr', {}, headings.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c) => el('td', {}, c)))))),
  );
}

function tasksTable(instance) {
  const rows = [];
  for (const id of Object.keys(instance.tasks ?? {}).sort(taskOrder)) rows.push([id, ...id.split('_'), instance.tasks[id]]);
  for (const id of Object.keys(instance.standbys ?? {}).sort(taskOrder)) rows.push([id, ...id.split('_'), `standby, lag ${count(instance.standbys[id])}`]);
  return table('tasks', 'Tasks (active: running or restoring; standby replicas with their lag)', ['Task', 'Sub-topology', 'Partition', 'Role'], rows, 'No tasks.');
}

function restorationFact(progress) {
  if (!progress) return fact('Restoration', 'nothing to restore');
  const percent = Math.floor(progress.share * 100);
  return fact(
    'Restoration',
    el(
      'span',
      { 'data-restoration': '' },
      el('progress', { max: 100, value: percent, 'aria-label': `Restoration ${percent}% done` }),
      ` ${count(progress.done)} of ${count(progress.done + progress.remaining)} records (${percent}%), ${duration(progress.secondsLeft)} left`,
    ),
  );
}

/** What the instance serving the page measures itself: rates, restoration, and each partition's lag with its trend. */
function localNumbers(metrics, trends, now) {
  const { rates, lagSeries, restoration } = trends;
  const lag = metrics.of('sluice_consumer_lag').sort((a, b) => a.labels.topic.localeCompare(b.labels.topic) || Number(a.labels.partition) - Number(b.labels.partition));
  const commitSeconds = rates.rate('commit-sum', metrics.sum('sluice_commit_latency_seconds_sum'), now);
  const commits = rates.rate('commit-count', metrics.sum('sluice_commit_latency_seconds_count'), now);
  const latency = commits ? (commitSeconds / commits) * 1000 : undefined;
  const restored = metrics.sum('sluice_restored_records_total');
  const progress = restoration.update(restored, metrics.sum('sluice_restore_remaining_records'), rates.rate('restored', restored, now));
  const seen = new Set();
  const rows = lag.map((s) => {
    const key = `${s.labels.topic}[${s.labels.partition}]`;
    seen.add(key);
    const values = lagSeries.add(key, s.value);
    return [s.labels.topic, s.labels.partition, count(s.value), sparkline(values, `Lag of ${key} over the last ${values.length} readings: from ${count(values[0])} to ${count(s.value)}, at most ${count(Math.max(...values))}`)];
  });
  lagSeries.keep(seen);
  return [
    el('dl', { class: 'facts' }, fact('Processed', perSecond(rates.rate('processed', metrics.sum('sluice_records_processed_total'), now))), fact('Commit latency (mean, last 2 s)', milliseconds(latency)), restorationFact(progress)),
    table('lag', 'Consumer lag (the chart: the last 2 minutes)', ['Topic', 'Partition', 'Lag', 'Trend'], rows, 'No partitions assigned here.'),
  ];
}

function card(instance, self, local) {
  const heard = instance.live ? `${count(instance.lastHeardMsAgo)} ms ago` : `silent for ${count(instance.lastHeardMsAgo / 1000)} s`;
  return el(
    'article',
    { class: `card ${instance.live ? '' : 'gone'}`, 'data-instance': instance.instance },
    el('h3', {}, instance.instance, self ? el('span', { class: 'badge' }, 'serving this page') : null),
    el('dl', { class: 'facts' }, fact('State', el('span', { class: `state ${instance.state}` }, instance.state)), fact('Endpoint', instance.endpoint), fact('Last heard', heard)),
    tasksTable(instance),
    local ?? null,
  );
}

export function instancesView(container) {
  const errors = el('div', { class: 'errors' });
  const list = el('div', { class: 'cards', 'aria-live': 'off' });
  replace(container, el('h2', {}, 'Instances'), el('p', { class: 'hint' }, 'Updated every 2 seconds. Lag and latency are measured by the instance serving this page.'), errors, list);
  const trends = { rates: new Rates(), lagSeries: new Series(60), restoration: new Restoration() };
  const poll = every(2000, async () => {
    try {
      const [metadata, metrics] = await Promise.all([getJson('v1/metadata'), getText('metrics').then((t) => new MetricSamples(t))]);
      const local = localNumbers(metrics, trends, Date.now());
      replace(list, metadata.instances.map((i) => card(i, i.instance === metadata.instance, i.instance === metadata.instance ? local : undefined)));
      showError(errors, undefined);
    } catch (error) {
      showError(errors, error);
    }
  });
  return () => poll.stop();
}
