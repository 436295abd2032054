/** One node's count, shared by the tasks of an instance: a plain number on the per-record path. */
export interface NodeCount {
  records: number;
}

/**
 * Records that reached each node of the topology (a source: each record read; a processor or
 * sink: each record passed to it), summed over the instance's tasks. The per-record path adds
 * one to a plain field; `/metrics` reads the totals at scrape time.
 */
export class NodeCounts {
  private readonly counts = new Map<string, NodeCount>();

  /** The count of `node`, made on first use and kept for the instance's life (a task's nodes outlive it). */
  of(node: string): NodeCount {
    let count = this.counts.get(node);
    if (count === undefined) this.counts.set(node, (count = { records: 0 }));
    return count;
  }

  /** Every node's total so far. */
  totals(): Map<string, number> {
    const totals = new Map<string, number>();
    for (const [node, count] of this.counts) totals.set(node, count.records);
    return totals;
  }
}
