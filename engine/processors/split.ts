import type { ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

export interface Branch {
  /** The node that receives this branch's records. */
  child: string;
  predicate: (key: unknown, value: unknown, context: RecordContext) => boolean;
}

/**
 * Sends each record to the first branch whose predicate accepts it, else to the default branch
 * (if any); a record goes to one branch at most.
 */
export function split(branches: readonly Branch[], defaultChild: string | undefined): ProcessorSupplier {
  return ({ children, context, name }) => {
    const routes = branches.map((b) => ({ predicate: b.predicate, forward: children.get(b.child)! }));
    const fallback = defaultChild === undefined ? undefined : children.get(defaultChild);
    const count = routes.length;
    return (key, value) => {
      for (let i = 0; i < count; i++) {
        const route = routes[i]!;
        if (synchronous(route.predicate(key, value, context), name, 'branch predicate')) {
          route.forward(key, value);
          return;
        }
      }
      fallback?.(key, value);
    };
  };
}
