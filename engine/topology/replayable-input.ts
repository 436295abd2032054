import type { CompiledNode, Subtopology } from './compiled.ts';

/**
 * Operators that change nothing a commit writes (no store, no output of their own): a record they
 * pass on has left no trace yet, so processing it again after a crash does the same. The async
 * operators are among them: what they pass on goes to their single child only.
 */
const TRACELESS = new Set(['filter', 'filterNot', 'map', 'mapValues', 'flatMap', 'flatMapValues', 'selectKey', 'peek', 'withHeaders', 'merge', 'mapValuesAsync', 'mapAsync', 'flatMapAsync', 'filterAsync']);

/**
 * Marks the processors whose input is replayable: every path from a source to them is a chain of
 * traceless operators, each with that one way out and no dead-letter topic for what fails. Nothing of a record that has not reached
 * such a node yet is in a commit (no store written, no record sent), so an exactly-once commit may
 * cover everything before it while records wait at it, and a crash takes them again from their
 * input. The async operators rely on it to commit without waiting for their calls.
 */
export function markReplayableInputs(subtopology: Subtopology): void {
  const byName = new Map(subtopology.nodes.map((n) => [n.name, n]));
  const memo = new Map<string, boolean>();
  /** True when a record that `node` passes on has left no trace, and `node` passes it only to `child`. */
  const clean = (node: CompiledNode, child: string): boolean => {
    if (node.children.length !== 1 || node.children[0] !== child) return false;
    // A record that fails there goes to a dead-letter topic: a write of the commit's.
    if (typeof node.onError === 'object') return false;
    if (node.kind === 'source') return true;
    if (node.kind !== 'processor' || !TRACELESS.has(node.operator) || node.stores.length > 0) return false;
    return replayable(node);
  };
  const replayable = (node: CompiledNode): boolean => {
    let known = memo.get(node.name);
    if (known === undefined) {
      known = node.kind !== 'source' && node.parents.every((parent) => byName.has(parent) && clean(byName.get(parent)!, node.name));
      memo.set(node.name, known);
    }
    return known;
  };
  for (const node of subtopology.nodes) if (node.kind === 'processor' && replayable(node)) node.replayableInput = true;
}
