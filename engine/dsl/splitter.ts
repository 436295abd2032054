import { passthrough } from '../processors/passthrough.ts';
import type { RecordContext } from '../processors/processor.ts';
import { split, type Branch } from '../processors/split.ts';
import { TopologyError } from '../errors.ts';
import type { Splitter, Stream } from './api.ts';
import { requireFunction } from './checks.ts';
import type { DslContext } from './dsl-context.ts';
import type { KnownSerdes } from './stream-options.ts';

/** The {@link Splitter} the DSL hands out: one split node, and a branch child per branch. */
export class GraphSplitter<K, V, B extends object> implements Splitter<K, V, B> {
  private readonly dsl: DslContext;
  private readonly splitNode: string;
  private readonly serdes: KnownSerdes<K, V>;
  private readonly branches: Branch[] = [];
  private readonly streams: Record<string, Stream<K, unknown>> = {};

  /** @internal */
  constructor(dsl: DslContext, parent: string, name: string | undefined, serdes: KnownSerdes<K, V>) {
    this.dsl = dsl;
    this.serdes = serdes;
    this.splitNode = dsl.graph.nameFor('KSTREAM-BRANCH', name);
    // The split node's routing is fixed when the last branch is known; see `finish`.
    dsl.graph.add({ kind: 'processor', name: this.splitNode, operator: 'split', parents: [parent], supplier: passthrough });
  }

  branch<N extends string, S extends V>(
    name: N,
    predicate: (key: K, value: V, context: RecordContext) => value is S,
  ): Splitter<K, V, B & { [P in N]: Stream<K, S> }>;
  branch<N extends string>(
    name: N,
    predicate: (key: K, value: V, context: RecordContext) => boolean,
  ): Splitter<K, V, B & { [P in N]: Stream<K, V> }>;
  branch(name: string, predicate: (key: K, value: V, context: RecordContext) => boolean): Splitter<K, V, never> {
    const child = this.addBranch(name);
    requireFunction(child, 'predicate', predicate);
    this.branches.push({ child, predicate: predicate as Branch['predicate'] });
    return this as unknown as Splitter<K, V, never>;
  }

  defaultBranch<N extends string = 'default'>(name?: N): B & { [P in N]: Stream<K, V> } {
    const child = this.addBranch(name ?? 'default');
    return this.finish(child) as B & { [P in N]: Stream<K, V> };
  }

  noDefaultBranch(): B {
    return this.finish(undefined) as B;
  }

  private addBranch(branch: string): string {
    if (typeof branch !== 'string' || branch === '') throw new TopologyError(this.splitNode, `a branch needs a name (a non-empty string); got ${JSON.stringify(branch)}.`);
    if (Object.hasOwn(this.streams, branch)) throw new TopologyError(this.splitNode, `split already has a branch "${branch}"; give each branch its own name.`);
    const child = this.dsl.graph.nameFor('KSTREAM-BRANCHCHILD', `${this.splitNode}-${branch}`);
    this.dsl.graph.add({ kind: 'processor', name: child, operator: 'branch', parents: [this.splitNode], supplier: passthrough });
    this.streams[branch] = this.dsl.stream<K, V>(child, this.serdes);
    return child;
  }

  private finish(defaultChild: string | undefined): object {
    const node = this.dsl.graph.node(this.splitNode);
    if (node?.kind === 'processor') node.supplier = split([...this.branches], defaultChild);
    return { ...this.streams };
  }
}
