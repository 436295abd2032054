import { AsyncStats } from '../../observability/async-stats.ts';
import type { BackgroundServices } from '../../processors/background.ts';
import { realTimers } from '../timers.ts';

/** Background services on the machine's timers (an application's; a task built without any gets fresh ones). */
export function machineBackground(stats = new AsyncStats(), exactlyOnce = false): BackgroundServices {
  return { timers: realTimers, stats, exactlyOnce, drainWaitMs: 0 };
}
