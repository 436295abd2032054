import type { Timers } from '../processors/background.ts';

/** The machine's timers; they do not keep the process alive. */
export const realTimers: Timers = {
  after(delayMs, run) {
    const timer = setTimeout(run, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
