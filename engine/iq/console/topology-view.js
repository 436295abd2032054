// Topology: each sub-topology as a graph in SVG (from GET /v1/topology, the `describe` JSON),
// with each node's records/s and errors and each store's size and standby lag, summed over every
// live instance's metrics (GET /v1/instances/<name>/metrics) and /v1/metadata, every 2 s.
import { getJson, getText } from './api.js';
import { el, replace, svg } from './dom.js';
import { bytes, count, perSecond } from './format.js';
import { MetricSamples, Rates } from './metrics-text.js';
import { every, fact, showError } from './panel.js';
import { BOX_HEIGHT, layoutSubtopology } from './topology-layout.js';

function kindLine(node) {
  if (node.type === 'source') return `source ← ${node.topics.join(', ')}`;
  if (node.type === 'sink') return `sink → ${node.topic}`;
  if (node.type === 'store') return 'state store';
  return node.operator ?? 'processor';
}

function drawBox(box, stats) {
  const name = box.node?.name ?? box.store;
  const statsText = svg('text', { x: 12, y: 52, class: 'stats' }, '');
  stats.set(box.id, statsText);
  const shape = svg(
    'g',
    { class: `box ${box.kind}`, transform: `translate(${box.x} ${box.y})`, 'data-name': name },
    svg('rect', { width: box.width, height: BOX_HEIGHT, rx: box.kind === 'store' ? 14 : 4 }),
    svg('text', { x: 12, y: 20, class: 'name' }, name),
    svg('text', { x: 12, y: 36, class: 'kind' }, kindLine(box.node ?? { type: 'store' })),
    statsText,
  );
  if (box.kind !== 'store') return shape;
  return svg('a', { href: `#stores?store=${encodeURIComponent(box.store)}`, 'aria-label': `Store ${box.store}: open in the store browser` }, shape);
}

function drawEdge(edge, boxes, arrow) {
  const from = boxes.get(edge.from);
  const to = boxes.get(edge.to);
  if (!from || !to) return null;
  if (from.y === to.y) {
    const [left, right] = from.x < to.x ? [from, to] : [to, from];
    const y = from.y + BOX_HEIGHT / 2;
    return svg('line', { x1: left.x + left.width, y1: y, x2: right.x, y2: y, class: edge.dashed ? 'edge dashed' : 'edge' });
  }
  const x1 = from.x + from.width / 2;
  const y1 = from.y + BOX_HEIGHT;
  const x2 = to.x + to.width / 2;
  const y2 = to.y - 2;
  const middle = (y1 + y2) / 2;
  return svg('path', { d: `M${x1} ${y1} C${x1} ${middle} ${x2} ${middle} ${x2} ${y2}`, class: 'edge', 'marker-end': `url(#${arrow})` });
}

function drawSubtopology(sub, stats) {
  const layout = layoutSubtopology(sub.nodes, (node) => [kindLine(node), '00,000 rec/s out · 0,000 errors']);
  const boxes = new Map(layout.boxes.map((b) => [b.id, b]));
  const arrow = `arrow-${sub.id}`;
  const label = `Sub-topology ${sub.id}: ${sub.nodes.map((n) => n.name).join(', ')}`;
  return svg(
    'svg',
    { width: layout.width, height: layout.height, viewBox: `0 0 ${layout.width} ${layout.height}`, role: 'img', 'aria-label': label, class: 'graph' },
    svg('defs', {}, svg('marker', { id: arrow, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, svg('path', { d: 'M0 0 L10 5 L0 10 z' }))),
    layout.edges.map((e) => drawEdge(e, boxes, arrow)),
    layout.boxes.map((b) => drawBox(b, stats)),
  );
}

/** Fills in the numbers of the nodes and stores, and the summary, from one reading. */
function update(description, stats, summary, rates, metrics, metadata, measured) {
  const now = Date.now();
  const records = metrics.sumBy('sluice_node_records_total', 'node');
  const failed = metrics.sumBy('sluice_node_errors_total', 'node');
  const sizes = metrics.sumBy('sluice_store_size_bytes', 'store');
  const direction = { source: ' in', sink: ' out' };
  for (const sub of description.subtopologies) {
    for (const node of sub.nodes) {
      const text = stats.get(`node:${node.name}`);
      const errors = failed.get(node.name) ?? 0;
      text.textContent = `${perSecond(rates.rate(node.name, records.get(node.name) ?? 0, now))}${direction[node.type] ?? ''}${errors > 0 ? ` · ${count(errors)} errors` : ''}`;
      text.classList.toggle('failing', errors > 0);
    }
  }
  for (const store of description.stores) {
    const standby = metadata.instances.flatMap((i) => i.stores?.[store.name]?.standby ?? []);
    const lag = standby.length === 0 ? '' : ` · standby lag ${count(Math.max(...standby.map((s) => s.lag)))}`;
    const text = stats.get(`store:${store.name}`);
    if (text) text.textContent = `${bytes(sizes.get(store.name))}${lag}`;
  }
  replace(
    summary,
    fact('Processed', perSecond(rates.rate('processed', metrics.sum('sluice_records_processed_total'), now))),
    fact('Dead-lettered', count(metrics.sum('sluice_dead_letter_records_total'))),
    fact('Skipped', count(metrics.sum('sluice_skipped_records_total'))),
    fact('Numbers from', measured.length === 0 ? '–' : measured.join(', ')),
  );
}

/** The metrics of every live instance, read as one (their samples add up); and whose they are. */
async function allMetrics(metadata) {
  const live = metadata.instances.filter((i) => i.live).map((i) => i.instance);
  const texts = await Promise.all(live.map((name) => getText(`v1/instances/${encodeURIComponent(name)}/metrics`)));
  return { metrics: new MetricSamples(texts.join('\n')), measured: live };
}

export function topologyView(container) {
  const errors = el('div', { class: 'errors' });
  const summary = el('dl', { class: 'facts' });
  const graphs = el('div', { class: 'graphs' });
  replace(container, el('h2', {}, 'Topology'), errors, summary, graphs);
  const stats = new Map();
  const rates = new Rates();
  let description;
  const poll = every(2000, async () => {
    try {
      if (!description) {
        description = await getJson('v1/topology');
        replace(
          graphs,
          description.subtopologies.map((sub) =>
            el('section', { class: 'subtopology' }, el('h3', {}, `Sub-topology ${sub.id}`, sub.copartitioned ? ` (co-partitioned: ${sub.copartitioned.join(', ')})` : ''), el('div', { class: 'scroll' }, drawSubtopology(sub, stats))),
          ),
        );
      }
      const metadata = await getJson('v1/metadata');
      const { metrics, measured } = await allMetrics(metadata);
      update(description, stats, summary, rates, metrics, metadata, measured);
      showError(errors, undefined);
    } catch (error) {
      showError(errors, error);
    }
  });
  return () => poll.stop();
}
