import type { Application } from '../application.ts';
import type { RunOptions } from '../run-options.ts';
import { threadPath, type StreamThreadRole } from './thread-role.ts';

/** What a stream thread tells its supervisor over the IPC channel. */
export type ThreadReport = { sluice: 'thread-joining' } | { sluice: 'thread-started'; port: number | undefined } | { sluice: 'thread-state'; state: string };

/** What the supervisor tells its threads: every thread is connected, join the group now. */
export const JOIN_MESSAGE = { sluice: 'join' } as const;

/** Tells the supervisor this thread is about to join the group, and waits until every thread is. */
function joinTogether(): Promise<void> {
  if (!process.connected) return Promise.resolve();
  return new Promise((resolve) => {
    const onMessage = (message: { sluice?: string }) => {
      if (message?.sluice !== JOIN_MESSAGE.sluice) return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
    process.send?.({ sluice: 'thread-joining' } satisfies ThreadReport);
  });
}

/**
 * The run options of a stream thread: its query server on loopback at any free port, reached
 * through its instance's front server under `/threads/<n>` (which it advertises), with the
 * instance's token and allowed hosts.
 */
export function threadOptions(options: RunOptions, role: StreamThreadRole): RunOptions {
  const { http } = options;
  const base = threadPath(role.index);
  return {
    ...options,
    numStreamThreads: 1,
    // Each thread is a member of its own: a named instance's threads are named after it.
    ...(options.instanceName === undefined ? {} : { instanceName: `${options.instanceName}-${role.index}` }),
    beforeJoin: joinTogether,
    ...(http && role.front ? { http: { ...http, port: 0, host: '127.0.0.1', advertisedUrl: `${role.front.replace(/\/$/, '')}${base}`, basePath: base } } : { http: undefined }),
  };
}

/**
 * Ties a stream thread's application to its supervisor: reports where its server listens once
 * it has joined the group (its server starts before), then each state change, and closes the
 * application when the supervisor goes (its IPC channel closes), so no thread outlives its
 * instance, or asks it to stop (SIGTERM), even while it starts.
 */
export function reportToSupervisor(app: Application): void {
  const send = (report: ThreadReport) => {
    if (process.connected) process.send?.(report);
  };
  let started = false;
  app.lifecycle.onChange((to) => {
    if (!started && to === 'REBALANCING') {
      started = true;
      send({ sluice: 'thread-started', port: app.queryPort });
    }
    send({ sluice: 'thread-state', state: to });
  });
  process.once('disconnect', () => void app.close());
  // The supervisor stops its threads with SIGTERM, whether or not the script handles it yet.
  process.once('SIGTERM', () => void app.close());
}
