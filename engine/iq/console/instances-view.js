// Instances: every instance of the application (GET /v1/metadata) with its state, its active and
// standby tasks, and from each live instance's own metrics (GET /v1/instances/<name>/metrics,
// which this server asks the other instances for) the consumer lag per partition with a
// sparkline of its last readings, commit latency and restoration's progress with the time it
// has left; read again every 2 s.
import { getJson, getText } from './api.js';
import { el, replace } from './dom.js';
import { count, milliseconds, perSecond } from './format.js';
import { MetricSamples, Rates } from './metrics-text.js';
import { errorBox, every, fact, showError } from './panel.js';
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

/** What an instance measures itself: rates, restoration, and each partition's lag with its trend. */
function numbers(metrics, trends, now) {
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

function card(instance, self, measured) {
  const heard = instance.live ? `${count(instance.lastHeardMsAgo)} ms ago` : `silent for ${count(instance.lastHeardMsAgo / 1000)} s`;
  return el(
    'article',
    { class: `card ${instance.live ? '' : 'gone'}`, 'data-instance': instance.instance },
    el('h3', {}, instance.instance, self ? el('span', { class: 'badge' }, 'serving this page') : null),
    el('dl', { class: 'facts' }, fact('State', el('span', { class: `state ${instance.state}` }, instance.state)), fact('Endpoint', instance.endpoint), fact('Last heard', heard)),
    tasksTable(instance),
    measured ?? null,
  );
}

/** Each instance's trends, kept from one reading to the next while the instance is listed. */
class InstanceTrends {
  constructor() {
    this.byInstance = new Map();
  }

  of(instance) {
    let trends = this.byInstance.get(instance);
    if (!trends) this.byInstance.set(instance, (trends = { rates: new Rates(), lagSeries: new Series(60), restoration: new Restoration() }));
    return trends;
  }

  keep(instances) {
    for (const name of this.byInstance.keys()) if (!instances.includes(name)) this.byInstance.delete(name);
  }
}

/** An instance's numbers, or, when its metrics could not be had, why (in its card, not instead of the page). */
async function measure(instance, trends) {
  if (!instance.live) return el('p', { class: 'empty' }, 'Not heard from lately: no numbers.');
  try {
    const metrics = new MetricSamples(await getText(`v1/instances/${encodeURIComponent(instance.instance)}/metrics`));
    return numbers(metrics, trends.of(instance.instance), Date.now());
  } catch (error) {
    return errorBox(error);
  }
}

export function instancesView(container) {
  const errors = el('div', { class: 'errors' });
  const list = el('div', { class: 'cards', 'aria-live': 'off' });
  replace(container, el('h2', {}, 'Instances'), el('p', { class: 'hint' }, 'Updated every 2 seconds. Each instance\'s lag, latency and restoration are its own measures.'), errors, list);
  const trends = new InstanceTrends();
  const poll = every(2000, async () => {
    try {
      const metadata = await getJson('v1/metadata');
      const measured = await Promise.all(metadata.instances.map((i) => measure(i, trends)));
      trends.keep(metadata.instances.map((i) => i.instance));
      replace(list, metadata.instances.map((i, n) => card(i, i.instance === metadata.instance, measured[n])));
      showError(errors, undefined);
    } catch (error) {
      showError(errors, error);
    }
  });
  return () => poll.stop();
}
