import { TopologyError } from '../errors.ts';

/** Properties that tools probe on any object (promises, inspectors, test matchers). */
const PROBED = new Set(['then', 'toJSON', 'inspect', 'asymmetricMatch', 'nodeType', '$$typeof', 'constructor']);

/**
 * Wraps a DSL object so that calling an operator it does not have (a typo such as `fliter`,
 * common in plain-JavaScript topology files) fails with a {@link TopologyError} that names the
 * node, the unknown operator and the closest real one, instead of "is not a function".
 */
export function guardOperators<T extends object>(target: T, kind: string, node: string, operators: readonly string[]): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (typeof property === 'string' && !(property in object) && !PROBED.has(property)) {
        const closest = nearest(property, operators);
        throw new TopologyError(
          node,
          `"${property}" is not an operator of a ${kind}${closest ? `; did you mean "${closest}"?` : '.'} ` +
            `A ${kind} has: ${operators.join(', ')}.`,
        );
      }
      return Reflect.get(object, property, receiver);
    },
  });
}

/** The candidate within edit distance 3 of `word`, if any. */
function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
