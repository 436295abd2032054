/**
 * The join workloads: two inputs each, joined by key, with the joined records written to the
 * output as JSON.
 *
 * - `join-stream-table`: orders (the main input) enriched with their customer from a table read
 *   from a second input, customers. There is one customer per key (`customer-<n>`), each with a
 *   name and a tier; order `i` belongs to customer `mix(i) mod customers`. Every customer's
 *   timestamp is earlier than every order's, so a system that processes its inputs in time order
 *   (Kafka Streams, Sluice) has the whole table before the first order, and every order joins.
 * - `join-stream-stream`: orders (left) and payments (right), keyed by customer, joined when
 *   their timestamps are at most the join window apart (10 s, both ends included, as Kafka
 *   Streams' `JoinWindows` bounds are). Both sides' timestamps grow with the record number, a
 *   fixed step apart, so each input partition is in time order and no record is ever late.
 *   Payment `j` takes the key of an order near it in time (`partnerOf`): most within the window,
 *   some exactly at its edge or one step past it (to tell inclusive bounds from exclusive ones),
 *   some well outside it. Other pairs of one key can meet by chance; the checker counts them all.
 *
 * Everything follows from the record number and the params, so the loader and the checkers agree
 * without storing the input.
 */
import type { Params } from '../context.ts';
import { keyIndex, mix } from './stateful.ts';

/** The join workloads' params, beside the main input's size. */
export interface JoinParams {
  /** Timestamp of the first record: a whole hour, two hours before the load (recent, so retention never deletes the input). */
  startMs: number;
  /** The time between one record of a side and the next. */
  stepMs: number;
  /** stream-table: the orders start this long after the first customer, after every customer. */
  ordersAfterMs?: number;
  /** stream-stream: the join window, each way (`JoinWindows.ofTimeDifferenceWithNoGrace`). */
  windowMs?: number;
  /** stream-stream: the shares of payments placed in the window, on its edge, one step past it, and far outside it. */
  shares?: { inside: number; edge: number; pastEdge: number; outside: number };
  /** stream-stream: how far from its partner order a payment placed "inside" or "outside" the window may be, in ms. */
  insideMaxMs?: number;
  outsideMs?: [number, number];
}

const HOUR_MS = 3_600_000;

function recentHour(now: number): number {
  return Math.floor(now / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;
}

/** stream-table: when the customers and the orders begin. */
export function tableJoinParams(now = Date.now()): JoinParams {
  // One customer a millisecond, the orders from ten minutes on: later than every customer for up
  // to 600,000 customers, with 3 ms between orders (1,000,000 orders: 50 minutes).
  return { startMs: recentHour(now), stepMs: 3, ordersAfterMs: 600_000 };
}

/** stream-stream: orders and payments 5 ms apart on each side, a 10 s window. */
export function streamJoinParams(now = Date.now()): JoinParams {
  // 5 ms steps make the 10 s window a whole number of steps (2,000), so the edge can be hit
  // exactly; 500,000 records a side span 42 minutes.
  return {
    startMs: recentHour(now),
    stepMs: 5,
    windowMs: 10_000,
    shares: { inside: 0.86, edge: 0.01, pastEdge: 0.01, outside: 0.12 },
    insideMaxMs: 9_500,
    outsideMs: [11_000, 40_000],
  };
}

export function joinEnv(j: JoinParams): Record<string, string> {
  return j.windowMs === undefined ? {} : { BENCH_JOIN_WINDOW_MS: String(j.windowMs) };
}

function joinOf(p: Params): JoinParams {
  if (!p.join) throw new Error('a join workload needs params.join');
  return p.join;
}

export function customerKey(n: number): string {
  return `customer-${n}`;
}

/** The customer of record `i` of the main input (an order). */
export function customerOf(i: number, p: Params): number {
  return keyIndex(i, p.keys, 'hashed');
}

const TIERS = ['bronze', 'silver', 'gold', 'platinum'];

/** Customer `n`'s row: a name that is not its key (so a checker sees the right row was joined) and a tier. */
export function customerRow(n: number): { name: string; tier: string } {
  const h = mix(n ^ 0x2545f491);
  return { name: `Customer ${h.toString(36)}`, tier: TIERS[h % TIERS.length]! };
}

/** The amount of order `i` (or payment `i`): cents over 0–999.99. */
export function amountOf(i: number, salt = 0): number {
  return (mix(i ^ salt) % 100_000) / 100;
}

/** JSON text padded with a `pad` field to `size` bytes (or left as is when already longer). */
function padded(fields: string, size: number): Buffer {
  const text = `{${fields},"pad":"`;
  return Buffer.from(text.padEnd(Math.max(text.length, size - 2), 'x') + '"}');
}

/** Order `i`: `{"orderId":i,"amount":…,"pad":"x…"}`, `valueSize` bytes. */
export function orderValue(i: number, p: Params): Buffer {
  return padded(`"orderId":${i},"amount":${amountOf(i)}`, p.valueSize);
}

/** stream-table: order `i`'s timestamp, after every customer's. */
export function orderTimestamp(i: number, p: Params): number {
  const j = joinOf(p);
  return j.startMs + (j.ordersAfterMs ?? 0) + i * j.stepMs;
}

/** stream-table: customer `n`'s row as the customers topic holds it. */
export function customerValue(n: number): Buffer {
  return Buffer.from(JSON.stringify(customerRow(n)));
}

/** stream-table: customer `n`'s timestamp, one millisecond after the one before. */
export function customerTimestamp(n: number, p: Params): number {
  return joinOf(p).startMs + n;
}

/** stream-stream: record `i` of either side is stamped `start + i * step`. */
export function sideTimestamp(i: number, p: Params): number {
  const j = joinOf(p);
  return j.startMs + i * j.stepMs;
}

/** stream-stream: the order whose key payment `j` takes. */
export function partnerOf(j: number, p: Params): number {
  const join = joinOf(p);
  const shares = join.shares!;
  const h = mix(mix(j) ^ 0x27d4eb2f);
  const roll = (h % 100_000) / 100_000;
  const spread = h >>> 12;
  const sign = spread % 2 === 0 ? 1 : -1;
  const steps = (ms: number) => Math.floor(ms / join.stepMs);
  let offset: number;
  if (roll < shares.edge) offset = sign * steps(join.windowMs!);
  else if (roll < shares.edge + shares.pastEdge) offset = sign * (steps(join.windowMs!) + 1);
  else if (roll < shares.edge + shares.pastEdge + shares.outside) {
    const [from, to] = join.outsideMs!;
    offset = sign * (steps(from) + ((spread >>> 1) % (steps(to) - steps(from))));
  } else offset = ((spread >>> 1) % (2 * steps(join.insideMaxMs!) + 1)) - steps(join.insideMaxMs!);
  return Math.min(p.records - 1, Math.max(0, j + offset));
}

/** stream-stream: payment `j`'s customer, that of its partner order. */
export function paymentCustomer(j: number, p: Params): number {
  return customerOf(partnerOf(j, p), p);
}

/** stream-stream: payment `j`: `{"paymentId":j,"amount":…,"pad":"x…"}`, `valueSize` bytes. */
export function paymentValue(j: number, p: Params): Buffer {
  return padded(`"paymentId":${j},"amount":${amountOf(j, 0x51ed27)}`, p.valueSize);
}

/** Reads a JSON object, or undefined when the bytes are not one. */
function parseObject(value: Buffer | null): Record<string, unknown> | undefined {
  if (value === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(value.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * stream-table: every order must come out once, under its customer's key, with its amount and
 * its customer's name and tier (`{"orderId","amount","customer","tier"}`, other fields ignored).
 */
export class EnrichedOrderChecker {
  private readonly p: Params;
  private readonly seen: Uint8Array;
  outputs = 0;
  wrong = 0;
  duplicates = 0;
  malformed = 0;

  constructor(p: Params) {
    this.p = p;
    this.seen = new Uint8Array(p.records);
  }

  add(key: Buffer | null, value: Buffer | null): void {
    this.outputs++;
    const joined = parseObject(value);
    const i = joined?.orderId;
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= this.p.records) {
      this.malformed++;
      return;
    }
    const n = customerOf(i, this.p);
    const row = customerRow(n);
    if (key?.toString('utf8') !== customerKey(n) || joined!.amount !== amountOf(i) || joined!.customer !== row.name || joined!.tier !== row.tier) this.wrong++;
    if (this.seen[i] === 1) this.duplicates++;
    this.seen[i] = 1;
  }

  result(): { ok: boolean; outputs: number; orders: number; missing: number; wrong: number; duplicates: number; malformed: number } {
    let missing = 0;
    for (let i = 0; i < this.p.records; i++) if (this.seen[i] === 0) missing++;
    const ok = missing === 0 && this.wrong === 0 && this.duplicates === 0 && this.malformed === 0;
    return { ok, outputs: this.outputs, orders: this.p.records, missing, wrong: this.wrong, duplicates: this.duplicates, malformed: this.malformed };
  }
}

/**
 * stream-stream: the inner join's true output, every (order, payment) pair of one customer whose
 * timestamps are at most the window apart, each pair as `order * payments + payment`. There are
 * as many payments as orders (`p.records` each).
 */
export function expectedPairs(p: Params): Set<number> {
  const join = joinOf(p);
  // As many payments as orders.
  const payments = p.records;
  // Each side's record numbers grouped by customer (counting sort), in increasing order.
  const byCustomer = (records: number, customer: (i: number) => number) => {
    const customers = new Int32Array(records);
    const starts = new Int32Array(p.keys + 1);
    for (let i = 0; i < records; i++) starts[(customers[i] = customer(i)) + 1]!++;
    for (let k = 0; k < p.keys; k++) starts[k + 1]! += starts[k]!;
    const next = starts.slice(0, p.keys);
    const members = new Int32Array(records);
    for (let i = 0; i < records; i++) members[next[customers[i]!]!++] = i;
    return { starts, members };
  };
  const orders = byCustomer(p.records, (i) => customerOf(i, p));
  const paid = byCustomer(payments, (j) => paymentCustomer(j, p));
  const pairs = new Set<number>();
  for (let k = 0; k < p.keys; k++) {
    for (let a = orders.starts[k]!; a < orders.starts[k + 1]!; a++) {
      const i = orders.members[a]!;
      const t = sideTimestamp(i, p);
      for (let b = paid.starts[k]!; b < paid.starts[k + 1]!; b++) {
        const j = paid.members[b]!;
        if (Math.abs(sideTimestamp(j, p) - t) <= join.windowMs!) pairs.add(i * payments + j);
      }
    }
  }
  return pairs;
}

/**
 * stream-stream: the output must hold every expected pair once and nothing else, each under its
 * customer's key with both amounts (`{"orderId","paymentId","amount","paid"}`).
 */
export class JoinedPairChecker {
  private readonly p: Params;
  private readonly expected: Set<number>;
  private readonly seen = new Set<number>();
  outputs = 0;
  wrong = 0;
  unexpected = 0;
  duplicates = 0;
  malformed = 0;

  constructor(p: Params) {
    this.p = p;
    this.expected = expectedPairs(p);
  }

  add(key: Buffer | null, value: Buffer | null): void {
    this.outputs++;
    const joined = parseObject(value);
    const i = joined?.orderId;
    const j = joined?.paymentId;
    const payments = this.p.records;
    if (typeof i !== 'number' || typeof j !== 'number' || !Number.isInteger(i) || !Number.isInteger(j) || i < 0 || i >= this.p.records || j < 0 || j >= payments) {
      this.malformed++;
      return;
    }
    const pair = i * payments + j;
    if (!this.expected.has(pair)) {
      this.unexpected++;
      return;
    }
    if (key?.toString('utf8') !== customerKey(customerOf(i, this.p)) || joined!.amount !== amountOf(i) || joined!.paid !== amountOf(j, 0x51ed27)) this.wrong++;
    if (this.seen.has(pair)) this.duplicates++;
    this.seen.add(pair);
  }

  result(): { ok: boolean; outputs: number; pairs: number; missing: number; unexpected: number; wrong: number; duplicates: number; malformed: number } {
    const missing = this.expected.size - this.seen.size;
    const ok = missing === 0 && this.unexpected === 0 && this.wrong === 0 && this.duplicates === 0 && this.malformed === 0;
    return { ok, outputs: this.outputs, pairs: this.expected.size, missing, unexpected: this.unexpected, wrong: this.wrong, duplicates: this.duplicates, malformed: this.malformed };
  }
}
