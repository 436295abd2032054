// Where each box of a sub-topology's graph goes: rows from the sources down (a node one row
// below the lowest of its predecessors), each row centred, and each store beside the first
// processor that uses it. Pure: numbers in, numbers out.

export const BOX_HEIGHT = 62;
const ROW_GAP = 44;
const COLUMN_GAP = 28;
const MARGIN = 12;
const CHAR_WIDTH = 7.6;

function widthOf(lines) {
  return Math.max(150, Math.ceil(Math.max(...lines.map((l) => l.length)) * CHAR_WIDTH) + 24);
}

/**
 * The boxes and edges of one sub-topology. `nodes` as `describe` gives them; `detail(node)` the
 * longest text a node's box will hold besides its name (its width depends on it).
 * Returns `{ width, height, boxes: [{ id, kind, node?, store?, x, y, width }], edges: [{ from, to, dashed }] }`.
 */
export function layoutSubtopology(nodes, detail) {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const depth = new Map();
  const depthOf = (node, seen = new Set()) => {
    if (depth.has(node.name)) return depth.get(node.name);
    if (seen.has(node.name)) return 0;
    seen.add(node.name);
    const parents = node.predecessors.map((p) => byName.get(p)).filter(Boolean);
    const d = parents.length === 0 ? 0 : 1 + Math.max(...parents.map((p) => depthOf(p, seen)));
    depth.set(node.name, d);
    return d;
  };
  const rows = [];
  const placedStores = new Set();
  for (const node of nodes) {
    const row = (rows[depthOf(node)] ??= []);
    row.push({ id: `node:${node.name}`, kind: node.type, node, width: widthOf([node.name, ...detail(node)]) });
    for (const store of node.stores) {
      if (placedStores.has(store)) continue;
      placedStores.add(store);
      row.push({ id: `store:${store}`, kind: 'store', store, width: widthOf([store, ...detail({ type: 'store', name: store })]) });
    }
  }
  const rowWidths = rows.map((row) => (row ?? []).reduce((w, b) => w + b.width, 0) + COLUMN_GAP * Math.max(0, (row ?? []).length - 1));
  const width = Math.max(...rowWidths, 150) + 2 * MARGIN;
  const boxes = [];
  rows.forEach((row = [], i) => {
    let x = (width - rowWidths[i]) / 2;
    for (const box of row) {
      boxes.push({ ...box, x, y: MARGIN + i * (BOX_HEIGHT + ROW_GAP) });
      x += box.width + COLUMN_GAP;
    }
  });
  const edges = [];
  for (const node of nodes) {
    for (const child of node.successors) if (byName.has(child)) edges.push({ from: `node:${node.name}`, to: `node:${child}`, dashed: false });
    for (const store of node.stores) edges.push({ from: `node:${node.name}`, to: `store:${store}`, dashed: true });
  }
  return { width, height: MARGIN * 2 + rows.length * BOX_HEIGHT + Math.max(0, rows.length - 1) * ROW_GAP, boxes, edges };
}
