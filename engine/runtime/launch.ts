import { createLogger } from '../observability/logger.ts';
import { Application } from './application.ts';
import { compileApplication, type ApplicationDefinition } from './definition.ts';
import { resolveRunOptions, type RunOptions } from './run-options.ts';
import { reportToSupervisor, threadOptions } from './threads/member.ts';
import { StreamThreads } from './threads/stream-threads.ts';
import { streamThreadRole } from './threads/thread-role.ts';

/** An instance as `launch` gives it: one application, or several stream threads behind one front. */
export type Instance = Application | StreamThreads;

/**
 * Creates an instance of `definition`. With `numStreamThreads` above 1 it is that many stream
 * threads: child processes that run this process's script again (as node:cluster does), in
 * each of which this same call gives the thread's application; the instance's query server and
 * metrics are served by this process. So what the script does before it calls `launch` runs in
 * every thread too. Then `start()`, and `close()` on SIGTERM, as with an {@link Application}.
 *
 * @example
 * ```ts
 * const instance = launch(definition, { bootstrapServers: '127.0.0.1:9092', numStreamThreads: 2 });
 * process.on('SIGTERM', () => void instance.close()); // before start(): a SIGTERM while it starts closes it too
 * await instance.start();
 * await instance.finished;
 * ```
 */
export function launch(definition: ApplicationDefinition, options: RunOptions = {}): Instance {
  const role = streamThreadRole();
  if (role) {
    // The channel to the supervisor must not keep a thread that is done alive.
    process.channel?.unref();
    const app = Application.create(definition, threadOptions(options, role));
    reportToSupervisor(app);
    return app;
  }
  const resolved = resolveRunOptions(definition, options);
  const threads = resolved.settings.numStreamThreads ?? 1;
  if (threads <= 1) return Application.create(definition, options);
  return new StreamThreads({
    threads,
    topology: compileApplication(definition, resolved.settings),
    http: options.http,
    log: (options.logger ?? createLogger()).child({ application: resolved.settings.applicationId }),
    shutdownTimeoutMs: resolved.shutdownTimeoutMs,
  });
}
