import type { BytesStore } from '../bytes-store.ts';
import { segmentPrefix, type WindowKind } from './windowed-keys.ts';

/** What makes a store windowed: its kind of windows and how long they are kept. */
export interface WindowedStoreSpec {
  kind: WindowKind;
  /** Time windows' size (sliding windows: the time difference); sessions have none. */
  sizeMs?: number;
  /** Sliding and session windows include their end; time windows end just before it. */
  endInclusive: boolean;
  /** Windows are kept this long after their start (sessions: their end), of observed stream time. */
  retentionMs: number;
  segmentIntervalMs: number;
}

/**
 * A windowed store's retention: windows older than the retention period, as its operator's
 * observed stream time says, are dropped a whole segment at a time, with one range deletion in
 * storage and nothing on the changelog (its time retention drops them there, as Kafka Streams'
 * windowed changelogs do).
 */
export class SegmentRetention {
  private readonly bytes: BytesStore;
  private readonly spec: WindowedStoreSpec;
  /** Segments below this one were dropped at the last pass. */
  private liveFrom = 0;

  constructor(bytes: BytesStore, spec: WindowedStoreSpec) {
    this.bytes = bytes;
    this.spec = spec;
  }

  /** The earliest window time (start, or a session's end) still kept at this observed stream time. */
  minLiveTime(observed: number): number {
    return observed - this.spec.retentionMs + 1;
  }

  /**
   * Drops every segment wholly older than the retention period at `observed`, when that moved
   * into a new segment since the last pass. Returns how many segments that pass covered.
   */
  async drop(observed: number): Promise<number> {
    const live = Math.floor(this.minLiveTime(observed) / this.spec.segmentIntervalMs);
    if (!(live > this.liveFrom)) return 0;
    // From segment 0 each time: a write cached before its segment expired and flushed after
    // the last pass is dropped now.
    await this.bytes.clearRange(segmentPrefix(0), segmentPrefix(live));
    const covered = live - this.liveFrom;
    this.liveFrom = live;
    return covered;
  }
}
