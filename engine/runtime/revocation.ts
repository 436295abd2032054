import { describeCause } from '../errors.ts';
import type { TopicPartition } from '../kafka/records.ts';
import type { Logger } from '../observability/logger.ts';
import type { ProcessingLoop } from './processing-loop.ts';
import type { Tasks } from './task/tasks.ts';

/**
 * What a revocation does to the work of the revoked partitions, between two batches: revoked
 * partitions are committed (drained first) and, once committed, their tasks kept until the
 * assignment that follows, which may give them back; lost ones already belong to someone else,
 * so their work since the last commit is abandoned (under exactly-once, aborted with the other
 * tasks' work). `fail` stops the application on what cannot be recovered.
 */
export async function revokePartitions(
  loop: ProcessingLoop,
  tasks: Tasks,
  revoked: { partitions: TopicPartition[]; lost: boolean },
  on: { log: Logger; fail: (err: unknown, what: string) => void },
): Promise<void> {
  const { partitions, lost } = revoked;
  await loop.exclusive(async () => {
    if (lost) {
      await tasks.revoke(partitions);
      await loop.abandon().catch((err) => on.fail(err, 'could not abandon the work of lost partitions'));
      return;
    }
    // Kept only when committed: a task that went back to the last commit (its transaction aborted,
    // as a member the group has moved on from finds) may be given back after another member
    // processed its partitions meanwhile, and would run on stale stores.
    const committed = await loop.commit({ drain: true, closing: true }).catch(async (err) => {
      on.log.error({ err: describeCause(err) }, 'commit on revoke failed');
      // Nothing of the revoked partitions may stay in an open transaction.
      await loop.abandon().catch((e) => on.fail(e, 'could not abandon the work of revoked partitions'));
      return false;
    });
    await tasks.revoke(partitions, committed);
  });
  on.log.info({ partitions: partitions.map((p) => `${p.topic}[${p.partition}]`), lost }, 'partitions revoked');
}
