/**
 * The `stateless` workload: JSON events of about 256 bytes; each system parses them, adds a
 * field (map) and drops the `ignored` ones (filter, one in ten), and writes the rest as JSON.
 */
export interface StatelessEvent {
  id: number;
  user: string;
  kind: 'view' | 'click' | 'purchase' | 'ignored';
  amount: number;
  at: string;
  note: string;
}

export const KINDS = ['view', 'click', 'purchase', 'view', 'click', 'view', 'click', 'purchase', 'view', 'ignored'] as const;

/** The value of record `i`, padded so the JSON is `valueSize` bytes. */
export function statelessValue(i: number, keys: number, valueSize: number): Buffer {
  const event: StatelessEvent = {
    id: i,
    user: `user-${i % keys}`,
    kind: KINDS[i % KINDS.length]!,
    amount: (i % 1000) / 10,
    at: new Date(1_790_000_000_000 + i).toISOString(),
    note: '',
  };
  const base = JSON.stringify(event).length;
  event.note = 'x'.repeat(Math.max(0, valueSize - base));
  return Buffer.from(JSON.stringify(event));
}

/** The map step every system performs. */
export function enrich(event: StatelessEvent): StatelessEvent & { amountCents: number } {
  return { ...event, amountCents: Math.round(event.amount * 100) };
}

/** The filter step every system performs. */
export function keep(event: StatelessEvent): boolean {
  return event.kind !== 'ignored';
}

/** How many of `records` records survive the filter. */
export function expectedOutputs(records: number): number {
  let kept = 0;
  for (let i = 0; i < records; i++) if (KINDS[i % KINDS.length] !== 'ignored') kept++;
  return kept;
}
