import { Application, type RunOptions } from '../../engine/runtime/application.ts';
import type { ApplicationDefinition } from '../../engine/runtime/definition.ts';
import type { ConsumedRecord } from '../../engine/kafka/records.ts';
import { createLogger } from '../../engine/observability/logger.ts';
import { bootstrapServers, readAll, uniqueName } from './kafka.ts';

/** Quiet logs in tests unless SLUICE_LOG_LEVEL asks for them. */
export const testLogger = () => createLogger({}, process.env.SLUICE_LOG_LEVEL ?? 'error');

/** Starts an application in this process on the test broker, with a fresh application id. */
export async function startApplication(definition: ApplicationDefinition, options: RunOptions = {}): Promise<Application> {
  const app = Application.create(definition, {
    bootstrapServers: bootstrapServers(),
    applicationId: options.applicationId ?? uniqueName(definition.applicationId),
    logger: testLogger(),
    ...options,
  });
  await app.start();
  return app;
}

/** Reads `topic` until it holds at least `count` records (or the time is up), and returns them. */
export function waitForRecords(topic: string, count: number, timeoutMs = 30_000): Promise<ConsumedRecord[]> {
  return waitForRecordsUntil(topic, (records) => records.length >= count, timeoutMs);
}

/** Reads `topic` until what it holds passes `done` (or the time is up), and returns it. */
export async function waitForRecordsUntil(topic: string, done: (records: ConsumedRecord[]) => boolean, timeoutMs = 30_000): Promise<ConsumedRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await readAll(topic);
    if (done(records) || Date.now() > deadline) return records;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export const text = (b: Buffer | null | undefined) => (b === null || b === undefined ? null : b.toString('utf8'));
