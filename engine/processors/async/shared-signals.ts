import { setMaxListeners } from 'node:events';

/** Calls that share one signal before the next gets a fresh one. */
const CALLS_PER_SIGNAL = 256;

/**
 * The signals of an operator's calls without a time-out (a controller per call costs): calls
 * share one, aborted when the task closes, and a fresh one comes every {@link CALLS_PER_SIGNAL}
 * calls, so the listeners calls leave on it (fetch removes its own only once a request is
 * collected) go with it.
 */
export class SharedSignals {
  private current = shared();
  private calls = 0;

  /** The controller of the next call. */
  next(): AbortController {
    if (++this.calls > CALLS_PER_SIGNAL) {
      this.current = shared();
      this.calls = 1;
    }
    return this.current;
  }

  abort(reason: unknown): void {
    this.current.abort(reason);
  }
}

/** A controller whose signal takes a listener from each of its calls without a leak warning. */
function shared(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
