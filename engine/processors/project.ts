import { InvalidRecordError } from '../errors.ts';
import type { Change, ProcessorSupplier, RecordContext } from './processor.ts';
import { synchronous } from './synchronous.ts';

/** How a projection checks an event's version against its view's (optimistic concurrency). */
export interface VersionCheck<V, S> {
  /** The event's version. */
  event: (event: V) => number;
  /** The view's version (the version of the last event it applied). A missing view is version 0. */
  view: (view: S) => number;
  /**
   * `next` (default): an event applies only when its version is exactly one more than the view's,
   * the expected-version check of event-sourced writes; `newer`: any newer version applies.
   */
  mode?: 'next' | 'newer';
}

/** Folds one event into a view; null deletes the view. */
export type Projector<K, V, S> = (view: S | null, event: V, key: K, context: RecordContext) => S | null;

/**
 * `project`: an event-sourced read model per key. Each event is folded into the key's view in
 * `store` (a table; its updates go downstream when the store's cache flushes). With a version
 * check, an event whose version does not fit the view's is not applied and goes to `reject`
 * (dropped when undefined), so a redelivered or reordered event never changes the view twice
 * or out of order. Rebuilding from the log (after `sluice reset`) folds the same events in the
 * same order, so it gives the same views.
 */
export function project<K, V, S>(store: string, projector: Projector<K, V, S>, check: VersionCheck<V, S> | undefined, reject: string | undefined): ProcessorSupplier {
  const exact = (check?.mode ?? 'next') === 'next';
  return ({ stores, children, context, restoreContext, name }) => {
    const views = stores.get<K, S>(store);
    const rejected = reject === undefined ? undefined : children.get(reject);
    // The table's updates go to every child but the rejected branch.
    const downstream = [...children].filter(([child]) => child !== reject).map(([, forward]) => forward);
    stores.cache<K, S>(store).setFlushListener((key, newValue, oldValue, write) => {
      restoreContext(write);
      const change: Change<S> = { newValue, oldValue };
      for (const forward of downstream) forward(key, change);
    });
    return (key, event) => {
      if (key === null || key === undefined) throw new InvalidRecordError(name, 'the event has no key (key events by the aggregate they belong to)');
      if (event === null || event === undefined) return;
      const found = views.get(key as K);
      const view = found === undefined ? null : found;
      if (check !== undefined) {
        const version = synchronous(check.event(event as V), name, 'event version function');
        if (typeof version !== 'number' || !Number.isFinite(version)) throw new InvalidRecordError(name, `the event has no version (the event version function returned ${JSON.stringify(version)})`);
        const current = view === null ? 0 : synchronous(check.view(view), name, 'view version function');
        if (exact ? version !== current + 1 : version <= current) {
          rejected?.(key, event);
          return;
        }
      }
      const updated = synchronous(projector(view, event as V, key as K, context), name, 'apply function');
      const write = { timestamp: context.timestamp, headers: context.headers };
      if (updated === null || updated === undefined) views.delete(key as K, write);
      else views.put(key as K, updated, write);
    };
  };
}
