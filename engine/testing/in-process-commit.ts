import type { TopicPartitionOffset } from '../kafka/records.ts';
import type { CommitOutcome, CommitProtocol } from '../runtime/commit-protocol.ts';
import type { TopicLog } from './topic-log.ts';

/**
 * The test driver's commit protocol: everything sent is written at once, so a commit only takes
 * note of the positions (a rewind goes back to them). It never aborts: no transactions here.
 */
export class InProcessCommit implements CommitProtocol {
  readonly guarantee = 'at_least_once';

  constructor(private readonly log: TopicLog) {}

  async prepare(): Promise<void> {}

  async commit(offsets: TopicPartitionOffset[]): Promise<CommitOutcome> {
    this.log.commit(offsets);
    return 'committed';
  }

  async abandon(): Promise<boolean> {
    return false;
  }

  recoverable(): boolean {
    return false;
  }
}
