import type Kafka from '@confluentinc/kafka-javascript';
import { KafkaCodes, kafkaError } from './errors.ts';

/** How long each of the client's flushes may hold it. */
const FLUSH_STEP_MS = 100;

/**
 * Waits until the client holds no record (each acknowledged or failed): false if `timeoutMs`
 * passed first or `gaveUp` says to stop waiting (the client failed fatally, or was replaced).
 * The client's flush holds the client while it waits (a disconnect, at shutdown, waits for it),
 * so it is asked in steps of 100 ms.
 */
export async function flushClient(client: Kafka.Producer, timeoutMs: number, gaveUp: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const step = Math.max(0, Math.min(FLUSH_STEP_MS, deadline - Date.now()));
    const done = await new Promise<boolean>((resolve, reject) => {
      client.flush(step, (err) => {
        if (!err) resolve(true);
        else if ((err as { code?: number }).code === KafkaCodes.TIMED_OUT) resolve(false);
        else reject(kafkaError('flush', err));
      });
    });
    if (done) return true;
    if (Date.now() >= deadline || gaveUp()) return false;
  }
}
