import { passthrough } from '../processors/passthrough.ts';
import type { RecordContext } from '../processors/processor.ts';
import { split, type Branch } from '../processors/split.ts';
import type { LogicalGraph } from './graph.ts';
import type { KnownSerdes } from './stream-options.ts';
import { Stream } from './stream.ts';

/**
 * Builds the branches of a `split`. Each `branch` adds a named stream to the result;
 * `defaultBranch` or `noDefaultBranch` ends it and returns the streams by branch name.
 *
 * @example
 * ```ts
 * const { valid, invalid } = events.split({ name: 'check' })
 *   .branch('valid', (_, e): e is Event => isEvent(e))
 *   .defaultBranch('invalid');
 * ```
 */
export class Splitter<K, V, B extends object> {
  private readonly graph: LogicalGraph;
  private readonly splitNode: string;
  private readonly serdes: KnownSerdes<K, V>;
  private readonly branches: Branch[] = [];
  private readonly streams: Record<string, Stream<K, unknown>> = {};

  /** @internal */
  constructor(graph: LogicalGraph, parent: string, name: string | undefined, serdes: KnownSerdes<K, V>) {
    this.graph = graph;
    this.serdes = serdes;
    this.splitNode = graph.nameFor('KSTREAM-BRANCH', name);
    // The split node's routing is fixed when the last branch is known; see `finish`.
    graph.add({ kind: 'processor', name: this.splitNode, operator: 'split', parents: [parent], supplier: passthrough });
  }

  branch<N extends string, S extends V>(
    name: N,
    predicate: (key: K, value: V, context: RecordContext) => value is S,
  ): Splitter<K, V, B & { [P in N]: Stream<K, S> }>;
  branch<N extends string>(
    name: N,
    predicate: (key: K, value: V, context: RecordContext) => boolean,
  ): Splitter<K, V, B & { [P in N]: Stream<K, V> }>;
  branch(name: string, predicate: (key: K, value: V, context: RecordContext) => boolean): Splitter<K, V, object> {
    const child = this.addBranch(name);
    this.branches.push({ child, predicate: predicate as Branch['predicate'] });
    return this;
  }

  /** Records no branch took go to this one. */
  defaultBranch<N extends string = 'default'>(name?: N): B & { [P in N]: Stream<K, V> } {
    const child = this.addBranch(name ?? 'default');
    return this.finish(child) as B & { [P in N]: Stream<K, V> };
  }

  /** Records no branch took are dropped. */
  noDefaultBranch(): B {
    return this.finish(undefined) as B;
  }

  private addBranch(branch: string): string {
    if (branch in this.streams) {
      throw new TypeError(`split "${this.splitNode}" already has a branch "${branch}"`);
    }
    const child = this.graph.nameFor('KSTREAM-BRANCHCHILD', `${this.splitNode}-${branch}`);
    this.graph.add({ kind: 'processor', name: child, operator: 'branch', parents: [this.splitNode], supplier: passthrough });
    this.streams[branch] = new Stream<K, V>(this.graph, child, this.serdes);
    return child;
  }

  private finish(defaultChild: string | undefined): object {
    const node = this.graph.nodes.find((n) => n.name === this.splitNode);
    if (node?.kind === 'processor') node.supplier = split([...this.branches], defaultChild);
    return { ...this.streams };
  }
}
