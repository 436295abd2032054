import { keyIdentity } from '../held-records.ts';
import type { WindowBounds } from './specs.ts';

/**
 * The windows a task's store holds, per key, in memory: sliding and session windows must find a
 * key's windows in a time range on the per-record path, where a LevelDB scan (asynchronous) cannot
 * run. Built from the store's entries when the task starts (the store is preloaded) and kept up
 * to date with every put and delete; values stay in the store. Per key, windows are ordered by
 * end, then start.
 */
export class WindowIndex {
  private readonly byKey = new Map<string, WindowBounds[]>();
  /** The retention bound of the last full pass, and how far it must move before the next. */
  private sweptAt = Number.NEGATIVE_INFINITY;
  private readonly sweepEveryMs: number;

  /** `sweepEveryMs`: how far the retention bound moves between passes over every key (a store's segment interval). */
  constructor(sweepEveryMs: number) {
    this.sweepEveryMs = sweepEveryMs;
  }

  /**
   * Forgets, for every key, the windows ending before `liveFrom` (past the store's retention), in
   * one pass once the bound has moved on by `sweepEveryMs`: lookups forget them key by key, and a
   * key never seen again would otherwise keep its windows in memory for good.
   */
  expire(liveFrom: number): void {
    if (!(liveFrom - this.sweptAt >= this.sweepEveryMs)) return;
    this.sweptAt = liveFrom;
    for (const [id, windows] of this.byKey) {
      let expired = 0;
      while (expired < windows.length && windows[expired]!.end < liveFrom) expired++;
      if (expired === windows.length) this.byKey.delete(id);
      else if (expired > 0) windows.splice(0, expired);
    }
  }

  /** How many keys have windows here. */
  get keys(): number {
    return this.byKey.size;
  }

  add(key: unknown, window: WindowBounds): void {
    const id = keyIdentity(key);
    let windows = this.byKey.get(id);
    if (windows === undefined) this.byKey.set(id, (windows = []));
    const at = position(windows, window);
    const found = windows[at];
    if (found !== undefined && found.end === window.end && found.start === window.start) return;
    windows.splice(at, 0, { start: window.start, end: window.end });
  }

  remove(key: unknown, window: WindowBounds): void {
    const id = keyIdentity(key);
    const windows = this.byKey.get(id);
    if (windows === undefined) return;
    const at = position(windows, window);
    const found = windows[at];
    if (found !== undefined && found.end === window.end && found.start === window.start) windows.splice(at, 1);
    if (windows.length === 0) this.byKey.delete(id);
  }

  /**
   * The key's windows whose end lies in [endFrom, endTo], in (end, start) order. It also forgets
   * the key's windows ending before `liveFrom` (past the store's retention).
   */
  endingBetween(key: unknown, endFrom: number, endTo: number, liveFrom: number): WindowBounds[] {
    const id = keyIdentity(key);
    const windows = this.byKey.get(id);
    if (windows === undefined) return [];
    let expired = 0;
    while (expired < windows.length && windows[expired]!.end < liveFrom) expired++;
    if (expired > 0) windows.splice(0, expired);
    if (windows.length === 0) {
      this.byKey.delete(id);
      return [];
    }
    const out: WindowBounds[] = [];
    for (let i = position(windows, { start: Number.NEGATIVE_INFINITY, end: endFrom }); i < windows.length; i++) {
      const window = windows[i]!;
      if (window.end > endTo) break;
      out.push(window);
    }
    return out;
  }
}

/** Where `window` is or would go in `windows` (ordered by end, then start). */
function position(windows: WindowBounds[], window: WindowBounds): number {
  let low = 0;
  let high = windows.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const w = windows[mid]!;
    if (w.end < window.end || (w.end === window.end && w.start < window.start)) low = mid + 1;
    else high = mid;
  }
  return low;
}
