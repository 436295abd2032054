// Windowed aggregations give what Kafka Streams gives for the same input, record for record: the
// Java scenarios tumbling-count, hopping-count, sliding-sum, session-sum, tumbling-count-final and
// session-count-final (bench/systems/kafka-streams, Scenarios.java) beside Sluice's topologies
// below, with the record cache off on both sides (every update). Each input is one partition of
// records with timestamps relative to T0 (the start of the hour before the run, so windows of 10 s start at T0 + k * 10 s),
// written to exercise the edges of Kafka Streams' processors: records out of order within the
// grace period, records late beyond it, records at the boundary (a window's end plus grace equal to
// stream time, and 1 ms short of it), windows that close only when a later record moves stream
// time, null keys and null values, session merges and sliding windows' left and right windows, and
// restarts between two parts of the input. Each expected output is what Kafka Streams 4.1.1 wrote
// for the input on the broker; the comments beside the input records say why each is there.
import { expect } from 'chai';
import { defineApplication, Serdes, SessionWindows, SlidingWindows, Suppressed, TimeWindows, type ApplicationDefinition, type ProcessingGuarantee } from '../../engine/index.ts';
import { buildKafkaStreams, SideBySide, type KeyFormat } from '../helpers/kafka-streams.ts';
import { RECENT_HOUR, createUniqueTopic, produceRecords, type TestRecord } from '../helpers/kafka.ts';

type Amount = { amount: number };
/** Null values reach the aggregators of time and session windows in Kafka Streams (sliding windows skip them). */
type Value = Amount | null;
const amountOf = (value: Value) => (value === null ? 0 : value.amount);

const SIZE = 10_000;
const GRACE = 5_000;
const GAP = 5_000;
const SESSION_GRACE = 2_000;

const settings = { keySerde: Serdes.string(), valueSerde: Serdes.json() };
const timeWindowedKeys = { key: Serdes.timeWindowed(Serdes.string()) };
const sessionWindowedKeys = { key: Serdes.sessionWindowed(Serdes.string()) };

/** Tumbling windows of 10 s, grace 5 s, counted. */
function tumblingCount(input: string, output: string): ApplicationDefinition {
  return defineApplication({
    applicationId: 'tumbling-count',
    ...settings,
    topology: (builder) =>
      builder
        .stream<string, Value>(input)
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, GRACE))
        .count({ name: 'counts', caching: false })
        .toStream()
        .to(output, timeWindowedKeys),
  });
}

/** Hopping windows of 10 s advancing by 5 s, grace 5 s, counted. */
function hoppingCount(input: string, output: string): ApplicationDefinition {
  return defineApplication({
    applicationId: 'hopping-count',
    ...settings,
    topology: (builder) =>
      builder
        .stream<string, Value>(input)
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, GRACE).advanceBy(5_000))
        .count({ name: 'counts', caching: false })
        .toStream()
        .to(output, timeWindowedKeys),
  });
}

/** Sliding windows of 10 s, grace 5 s, summing `amount`. */
function slidingSum(input: string, output: string): ApplicationDefinition {
  return defineApplication({
    applicationId: 'sliding-sum',
    ...settings,
    topology: (builder) =>
      builder
        .stream<string, Value>(input)
        .groupByKey()
        .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(10_000, GRACE))
        .aggregate(
          () => 0,
          (_, value, sum) => sum + amountOf(value),
          { name: 'sums', caching: false },
        )
        .toStream()
        .to(output, timeWindowedKeys),
  });
}

/** Sessions with an inactivity gap of 5 s, grace 2 s, summing `amount`; merged sessions add up. */
function sessionSum(input: string, output: string): ApplicationDefinition {
  return defineApplication({
    applicationId: 'session-sum',
    ...settings,
    topology: (builder) =>
      builder
        .stream<string, Value>(input)
        .groupByKey()
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, SESSION_GRACE))
        .aggregate(
          () => 0,
          (_, value, sum) => sum + amountOf(value),
          (_, left, right) => left + right,
          { name: 'sums', caching: false },
        )
        .toStream()
        .to(output, sessionWindowedKeys),
  });
}

/** tumbling-count's final results: each window once, when stream time reaches its end plus grace. */
function tumblingCountFinal(input: string, output: string): ApplicationDefinition {
  return defineApplication({
    applicationId: 'tumbling-count-final',
    ...settings,
    topology: (builder) =>
      builder
        .stream<string, Value>(input)
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, GRACE))
        .count({ name: 'counts', caching: false })
        .suppress(Suppressed.untilWindowCloses())
        .toStream()
        .to(output, timeWindowedKeys),
  });
}

/** Sessions (gap 5 s, grace 2 s) counted, final results only. */
function sessionCountFinal(input: string, output: string): ApplicationDefinition {
  return defineApplication({
    applicationId: 'session-count-final',
    ...settings,
    topology: (builder) =>
      builder
        .stream<string, Value>(input)
        .groupByKey()
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, SESSION_GRACE))
        .count({ name: 'counts', caching: false })
        .suppress(Suppressed.untilWindowCloses())
        .toStream()
        .to(output, sessionWindowedKeys),
  });
}

const T0 = RECENT_HOUR;

/** An input record: key, time after T0 (ms), and `{"amount": n}` or a null value. */
type In = [key: string | null, ms: number, amount: number | null];
const records = (rows: In[]): TestRecord[] =>
  rows.map(([key, ms, amount]) => ({ key, value: amount === null ? null : JSON.stringify({ amount }), timestamp: T0 + ms }));

/** A record Kafka Streams wrote: key, window start and end and timestamp after T0 (ms), and value (null: a tombstone). */
type Out = [key: string, start: number, end: number, value: number | null, ms: number];

const TIME: KeyFormat = { windowed: 'time', sizeMs: SIZE };
const SLIDING: KeyFormat = { windowed: 'sliding', differenceMs: 10_000 };
const SESSION: KeyFormat = { windowed: 'session' };

/** The helper's lines for `rows` on partition 0, windowed keys decoded as `format` shows them. */
function lines(format: KeyFormat, rows: Out[]): string[] {
  const close = format !== 'bytes' && format.windowed === 'time' ? ')' : ']';
  return rows.map(([key, start, end, value, ms], n) => `p0 #${n} ${JSON.stringify(key)}@[${T0 + start},${T0 + end}${close} → ${value === null ? 'null' : value} @${T0 + ms}`);
}

// tumbling-count: windows [0,10), [10,20), ... of 10 s, grace 5 s (times in ms after T0).
const TUMBLING_INPUT: In[] = [
  ['a', 1_000, 1], // [0,10) a = 1
  ['b', 2_000, 1],
  ['a', 12_000, 1], // stream time 12 s: [0,10) has ended but stays open until 15 s (its end + grace)
  ['a', 3_000, 1], // out of order, within grace: [0,10) a = 2, timestamp 3 s (the latest of the window)
  ['c', 14_000, 1],
  ['b', 9_999, 1], // the last millisecond of [0,10)
  ['b', 14_999, 1], // stream time 14.999 s: [0,10)'s end + grace is 1 ms ahead
  ['a', 4_000, 1], // so this one is accepted: [0,10) a = 3
  [null, 40_000, 1], // a null key: skipped, and stream time stays 14.999 s
  ['c', 15_000, 1], // stream time 15 s = [0,10)'s end + grace: [0,10) is closed from here on
  ['a', 5_000, 1], // end + grace == stream time: dropped
  ['a', 16_000, null], // a null value: counted (Kafka Streams passes it to the window's aggregator)
  ['b', 1_000, 1], // late beyond grace: dropped
  ['a', 25_000, 1], // stream time 25 s closes [10,20)
  ['c', 19_000, 1], // dropped: [10,20) was closed by the record before
  ['c', 21_000, 1],
];
/** Every update, timestamped with the latest record of its window (max(record, window's previous)). */
const TUMBLING_OUTPUT: Out[] = [
  ['a', 0, 10_000, 1, 1_000],
  ['b', 0, 10_000, 1, 2_000],
  ['a', 10_000, 20_000, 1, 12_000],
  ['a', 0, 10_000, 2, 3_000],
  ['c', 10_000, 20_000, 1, 14_000],
  ['b', 0, 10_000, 2, 9_999],
  ['b', 10_000, 20_000, 1, 14_999],
  ['a', 0, 10_000, 3, 4_000],
  ['c', 10_000, 20_000, 2, 15_000],
  ['a', 10_000, 20_000, 2, 16_000],
  ['a', 20_000, 30_000, 1, 25_000],
  ['c', 20_000, 30_000, 1, 21_000],
];
/**
 * With a restart just before a@5 s: stream time is each window processor's own, kept nowhere, so
 * the restarted one has seen nothing and accepts a@5 s, which the first run would have dropped; its
 * store still holds [0,10) (its retention is counted from the latest window start it holds), so the
 * count goes on from 3. Then a@16 s moves stream time on, and b@1 s is dropped as before.
 */
const TUMBLING_OUTPUT_LATE_RESTART: Out[] = [...TUMBLING_OUTPUT.slice(0, 9), ['a', 0, 10_000, 4, 5_000], ...TUMBLING_OUTPUT.slice(9)];

// hopping-count: windows of 10 s starting every 5 s ([-5,5), [0,10), [5,15), ...), grace 5 s.
const HOPPING_INPUT: In[] = [
  ['a', 1_000, 1], // [-5,5) and [0,10)
  ['a', 6_000, 1], // [0,10) and [5,15)
  ['b', 7_000, 1],
  ['a', 12_000, 1], // stream time 12 s: [-5,5) closes (its end + grace is 10 s); [0,10) is open until 15 s
  ['a', 4_000, 1], // [-5,5): dropped; [0,10): a = 3, timestamp still 6 s
  ['b', 15_000, 1], // stream time 15 s: [0,10) closes
  ['b', 9_999, 1], // [0,10): dropped (end + grace == stream time); [5,15): b = 2
  ['a', 14_999, 1],
  ['c', 19_999, 1], // stream time 19.999 s
  ['a', 10_000, 1], // [5,15)'s end + grace is 1 ms ahead: accepted; [10,20) too
  ['a', 20_000, 1], // stream time 20 s: [5,15) closes
  ['a', 10_001, 1], // [5,15): dropped; [10,20): a = 4, timestamp 14.999 s
  ['b', 21_000, null], // a null value: counted in [15,25) and [20,30)
];
/** A record's windows in order of start, each decided alone. */
const HOPPING_OUTPUT: Out[] = [
  ['a', -5_000, 5_000, 1, 1_000],
  ['a', 0, 10_000, 1, 1_000],
  ['a', 0, 10_000, 2, 6_000],
  ['a', 5_000, 15_000, 1, 6_000],
  ['b', 0, 10_000, 1, 7_000],
  ['b', 5_000, 15_000, 1, 7_000],
  ['a', 5_000, 15_000, 2, 12_000],
  ['a', 10_000, 20_000, 1, 12_000],
  ['a', 0, 10_000, 3, 6_000],
  ['b', 10_000, 20_000, 1, 15_000],
  ['b', 15_000, 25_000, 1, 15_000],
  ['b', 5_000, 15_000, 2, 9_999],
  ['a', 5_000, 15_000, 3, 14_999],
  ['a', 10_000, 20_000, 2, 14_999],
  ['c', 10_000, 20_000, 1, 19_999],
  ['c', 15_000, 25_000, 1, 19_999],
  ['a', 5_000, 15_000, 4, 14_999],
  ['a', 10_000, 20_000, 3, 14_999],
  ['a', 15_000, 25_000, 1, 20_000],
  ['a', 20_000, 30_000, 1, 20_000],
  ['a', 10_000, 20_000, 4, 14_999],
  ['b', 15_000, 25_000, 2, 21_000],
  ['b', 20_000, 30_000, 1, 21_000],
];

// sliding-sum: windows [start, start + 10 s], both ends included, grace 5 s. A record at t has a
// left window [t - 10 s, t] and, when a later record lies within 10 s, a right window
// [t + 1 ms, t + 10.001 s]. A record is dropped when t + 10 s < stream time - grace (close time);
// a window is updated only when its end >= close time.
const SLIDING_INPUT: In[] = [
  ['a', 0, 1], // left window [-10,0] = 1
  ['a', 5_000, 2], // a@0's right window [0.001,10.001] = 2 is created, then the left window [-5,5] = 1 + 2
  ['a', 3_000, 4], // out of order: updates [0.001,10.001] and [-5,5] (newest first), creates its left window [-7,3] = 1 + 4 and its right window [3.001,13.001] = 2 (what a@5 holds, with a@5's timestamp)
  ['b', 2_000, 10],
  ['a', 16_000, 8], // close time 11 s; a@5 is more than 10 s before: left window [6,16] = 8 alone
  ['a', 10_000, 16], // updates [6,16] and [3.001,13.001]; [0.001,10.001] ends before close time: not updated; creates a@5's right window [5.001,15.001] = 16; its left window [0,10] ends before close time: not created; its right window [10.001,20.001] = 8 (a@16's timestamp)
  ['a', 1_000, 32], // t + 10 s == close time: not dropped, but all its windows end before close time except its right window [1.001,11.001], created from [0.001,10.001]'s sum (6: a@10 s never reached it)
  ['b', 12_000, 2], // b@2 is exactly 10 s before: its right window [2.001,12.001] = 2, the left window [2,12] = 10 + 2
  ['b', 12_000, 4], // the same time again: updates both, creates nothing
  ['a', 999, 64], // t + 10 s == close time - 1 ms: dropped
  ['a', 30_000, null], // a null value: skipped, and stream time stays 16 s
  ['a', 1_500, 128], // so close time is still 11 s: [1.001,11.001] = 6 + 128; its right window [1.501,11.501] = 6
  ['b', 20_000, 1], // b@12's right window [12.001,22.001] = 1; the left window [10,20] = 6 (from [2.001,12.001]) + 1
];
/** Updated windows carry max(record, window's latest), created left windows the record's time, a right window its contents' latest. */
const SLIDING_OUTPUT: Out[] = [
  ['a', -10_000, 0, 1, 0],
  ['a', 1, 10_001, 2, 5_000],
  ['a', -5_000, 5_000, 3, 5_000],
  ['a', 1, 10_001, 6, 5_000],
  ['a', -5_000, 5_000, 7, 5_000],
  ['a', -7_000, 3_000, 5, 3_000],
  ['a', 3_001, 13_001, 2, 5_000],
  ['b', -8_000, 2_000, 10, 2_000],
  ['a', 6_000, 16_000, 8, 16_000],
  ['a', 6_000, 16_000, 24, 16_000],
  ['a', 3_001, 13_001, 18, 10_000],
  ['a', 5_001, 15_001, 16, 10_000],
  ['a', 10_001, 20_001, 8, 16_000],
  ['a', 1_001, 11_001, 6, 5_000],
  ['b', 2_001, 12_001, 2, 12_000],
  ['b', 2_000, 12_000, 12, 12_000],
  ['b', 2_001, 12_001, 6, 12_000],
  ['b', 2_000, 12_000, 16, 12_000],
  ['a', 1_001, 11_001, 134, 5_000],
  ['a', 1_501, 11_501, 6, 5_000],
  ['b', 12_001, 22_001, 1, 20_000],
  ['b', 10_000, 20_000, 7, 20_000],
];

// session-sum: sessions of records at most 5 s apart, grace 2 s; a record is dropped
// when its (merged) session ends before stream time - 7 s (close time). The store keeps sessions
// for gap + grace = 7 s after their end: one ending exactly at close time is no longer found.
const SESSION_INPUT: In[] = [
  ['a', 0, 1], // [0,0] = 1
  ['a', 3_000, 2], // extends it: a tombstone for [0,0] (timestamp 0), then [0,3] = 3 (timestamp 3 s, its end)
  ['a', 9_000, 4], // 6 s after: a session [9,9] of its own
  ['b', 1_000, 8], // stream time 9 s, close time 2 s: [1,1] ends before: dropped
  ['a', 6_500, 16], // within 5 s of [0,3] and of [9,9]: tombstones for both, then the merged [0,9] = 3 + 4 + 16
  ['a', 5_000, 32], // inside [0,9]: a tombstone for [0,9], then [0,9] = 55
  ['c', 10_000, 1],
  ['d', 10_000, 1],
  ['d', 10_000, 2], // d's session is exactly [t,t]: no tombstone, [10,10] = 3
  ['b', 17_000, 64], // stream time 17 s, close time 10 s
  ['c', 9_000, 2], // c's [10,10] ends at close time: no longer found, so [9,9] alone, which ends before close time: dropped
  ['e', 9_999, 1], // ends 1 ms before close time: dropped
  ['f', 10_000, 1], // ends at close time: accepted
  ['d', 10_000, 4], // d's [10,10] is no longer found: [10,10] = 4 again from the start, no tombstone
  ['b', 17_001, 128], // extends b's [17,17]: a tombstone, then [17,17.001] = 192
  ['a', 4_000, 256], // close time 10.001 s: [0,9] is not found, [4,4] ends before: dropped
  ['a', 18_000, null], // a null value: it reaches the aggregator ([18,18] = 0)
  ['a', 30_000, 1],
];
/** Each update timestamped with its session's end; each tombstone with the end of the session it removes. */
const SESSION_OUTPUT: Out[] = [
  ['a', 0, 0, 1, 0],
  ['a', 0, 0, null, 0],
  ['a', 0, 3_000, 3, 3_000],
  ['a', 9_000, 9_000, 4, 9_000],
  ['a', 0, 3_000, null, 3_000],
  ['a', 9_000, 9_000, null, 9_000],
  ['a', 0, 9_000, 23, 9_000],
  ['a', 0, 9_000, null, 9_000],
  ['a', 0, 9_000, 55, 9_000],
  ['c', 10_000, 10_000, 1, 10_000],
  ['d', 10_000, 10_000, 1, 10_000],
  ['d', 10_000, 10_000, 3, 10_000],
  ['b', 17_000, 17_000, 64, 17_000],
  ['f', 10_000, 10_000, 1, 10_000],
  ['d', 10_000, 10_000, 4, 10_000],
  ['b', 17_000, 17_000, null, 17_000],
  ['b', 17_000, 17_001, 192, 17_001],
  ['a', 18_000, 18_000, 0, 18_000],
  ['a', 30_000, 30_000, 1, 30_000],
];
/**
 * With a restart just before a@4 s: the restarted processor has seen no stream time, so a@4 s is
 * not late; its restored store (retention counted from the latest session end it holds, 17.001 s)
 * no longer shows [0,9], so a@4 s makes a session of its own.
 */
const SESSION_OUTPUT_LATE_RESTART: Out[] = [...SESSION_OUTPUT.slice(0, 17), ['a', 4_000, 4_000, 256, 4_000], ...SESSION_OUTPUT.slice(17)];

// tumbling-count-final: tumbling-count's windows, final results only: a window is emitted once
// stream time reaches its end + grace, with its latest count and timestamp.
const TUMBLING_FINAL_INPUT: In[] = [
  ['a', 1_000, 1],
  ['b', 2_000, 1],
  ['a', 12_000, 1],
  ['a', 3_000, 1], // within grace
  ['b', 14_999, 1], // stream time 14.999 s: nothing is final yet
  ['a', 4_000, 1], // accepted: a = 3
  ['c', 15_000, 1], // stream time 15 s: [0,10) closes, a = 3 (timestamp 4 s) and b = 1 are emitted, in key order
  ['a', 5_000, 1], // dropped
  ['a', 16_000, null], // a null value: counted
  ['b', 1_000, 1], // dropped
  ['c', 24_999, 1], // stream time 24.999 s: [10,20) not yet
  ['c', 25_000, 1], // [10,20) closes: a, b, c
  ['z', 100_000, 1], // far ahead: [20,30) closes (z's own window stays open)
];
const TUMBLING_FINAL_OUTPUT: Out[] = [
  ['a', 0, 10_000, 3, 4_000],
  ['b', 0, 10_000, 1, 2_000],
  ['a', 10_000, 20_000, 2, 16_000],
  ['b', 10_000, 20_000, 1, 14_999],
  ['c', 10_000, 20_000, 1, 15_000],
  ['c', 20_000, 30_000, 2, 25_000],
];

// session-count-final: sessions (gap 5 s, grace 2 s) counted, final results only: a session is
// emitted once stream time reaches its end + gap + grace. Tombstones of merged sessions are not.
const SESSION_FINAL_INPUT: In[] = [
  ['a', 0, 1], // [0,0]
  ['b', 7_000, 1], // stream time 7 s = [0,0]'s end + gap + grace: a [0,0] = 1 is emitted
  ['a', 0, 1], // [0,0] ends at close time (0): the aggregate accepts it but no longer finds the old [0,0], so [0,0] = 1 again, emitted again at once
  ['c', 10_000, 1],
  ['c', 16_000, 1], // 6 s apart: a second session; stream time 16 s: b [7,7] = 1 is emitted
  ['c', 13_000, 1], // bridges [10,10] and [16,16]: their tombstones are buffered, then dropped; [10,16] = 3
  ['a', 1_000, 1], // close time 9 s: dropped
  ['b', 9_000, 1], // b's [7,7] is no longer found; [9,9] ends at close time: accepted, and emitted at once
  ['d', 9_000, 1], // the same: emitted at once
  ['e', 8_999, 1], // 1 ms before close time: dropped
  ['a', 16_000, null], // a null value: counted, [16,16] = 1
  ['z', 100_000, 1], // far ahead: a [16,16] and c [10,16] close (the same end: in key order)
];
const SESSION_FINAL_OUTPUT: Out[] = [
  ['a', 0, 0, 1, 0],
  ['a', 0, 0, 1, 0],
  ['b', 7_000, 7_000, 1, 7_000],
  ['b', 9_000, 9_000, 1, 9_000],
  ['d', 9_000, 9_000, 1, 9_000],
  ['a', 16_000, 16_000, 1, 16_000],
  ['c', 10_000, 16_000, 3, 16_000],
];

interface Case {
  scenario: string;
  sluice: (input: string, output: string) => ApplicationDefinition;
  input: In[];
  format: KeyFormat;
}

const TUMBLING: Case = { scenario: 'tumbling-count', sluice: tumblingCount, input: TUMBLING_INPUT, format: TIME };
const HOPPING: Case = { scenario: 'hopping-count', sluice: hoppingCount, input: HOPPING_INPUT, format: TIME };
const SLIDING_SUM: Case = { scenario: 'sliding-sum', sluice: slidingSum, input: SLIDING_INPUT, format: SLIDING };
const SESSIONS: Case = { scenario: 'session-sum', sluice: sessionSum, input: SESSION_INPUT, format: SESSION };
const TUMBLING_FINAL: Case = { scenario: 'tumbling-count-final', sluice: tumblingCountFinal, input: TUMBLING_FINAL_INPUT, format: TIME };
const SESSIONS_FINAL: Case = { scenario: 'session-count-final', sluice: sessionCountFinal, input: SESSION_FINAL_INPUT, format: SESSION };

/**
 * Runs the case's input through both sides and returns Kafka Streams' output lines once Sluice's
 * equal them. `restartBefore`: the input is written in two parts, both sides running (and
 * stopping) after each, so the second run restores from Kafka and resumes at the committed offset.
 */
async function runCase(c: Case, options: { restartBefore?: number; guarantee?: ProcessingGuarantee } = {}): Promise<string[]> {
  const both = await runBoth(c, options);
  return both.expectSameOutput({ key: c.format });
}

/** Both sides' output lines, for the cases where Sluice differs from Kafka Streams on purpose (docs/windows.md). */
async function runDiffering(c: Case, options: { restartBefore?: number } = {}): Promise<{ sluice: string[]; kafkaStreams: string[] }> {
  const both = await runBoth(c, options);
  return both.outputs({ key: c.format });
}

async function runBoth(c: Case, options: { restartBefore?: number; guarantee?: ProcessingGuarantee }): Promise<SideBySide> {
  const input = await createUniqueTopic(c.scenario, 1);
  const both = await SideBySide.create({
    scenario: c.scenario,
    inputs: [input],
    sluice: (inputs, output) => c.sluice(inputs[0]!, output),
    guarantee: options.guarantee,
  });
  const parts = options.restartBefore === undefined ? [c.input] : [c.input.slice(0, options.restartBefore), c.input.slice(options.restartBefore)];
  for (const part of parts) {
    await produceRecords(input, records(part));
    await both.run();
  }
  return both;
}

/** The position of the first input record with this key and time. */
function at(input: In[], key: string, ms: number): number {
  const i = input.findIndex(([k, t]) => k === key && t === ms);
  if (i < 0) throw new Error(`no input record ${key}@${ms}`);
  return i;
}

describe('compat: windowed aggregations beside Kafka Streams', function () {
  this.timeout(240_000);

  before(async function () {
    this.timeout(600_000); // the first build downloads Kafka Streams and Maven's plugins
    await buildKafkaStreams();
  });

  describe('tumbling windows (tumbling-count)', () => {
    it('counts every update of each window, and drops a record once stream time has reached its window end plus grace', async () => {
      expect(await runCase(TUMBLING)).to.deep.equal(lines(TIME, TUMBLING_OUTPUT));
    });

    it('still does when both restart on fresh state before a record that moves stream time on', async () => {
      expect(await runCase(TUMBLING, { restartBefore: at(TUMBLING_INPUT, 'c', 15_000) })).to.deep.equal(lines(TIME, TUMBLING_OUTPUT));
    });

    it('after a restart, still drops a record the first run would have dropped, where Kafka Streams (its stream time starting again) accepts it', async () => {
      const { sluice, kafkaStreams } = await runDiffering(TUMBLING, { restartBefore: at(TUMBLING_INPUT, 'a', 5_000) });
      expect(kafkaStreams, "Kafka Streams' output").to.deep.equal(lines(TIME, TUMBLING_OUTPUT_LATE_RESTART));
      expect(sluice, 'as without the restart').to.deep.equal(lines(TIME, TUMBLING_OUTPUT));
    });

    it('writes the same under exactly-once', async () => {
      expect(await runCase(TUMBLING, { guarantee: 'exactly_once' })).to.deep.equal(lines(TIME, TUMBLING_OUTPUT));
    });
  });

  describe('hopping windows (hopping-count)', () => {
    it('updates, of the windows a record falls in, those still open, and only those', async () => {
      expect(await runCase(HOPPING)).to.deep.equal(lines(TIME, HOPPING_OUTPUT));
    });
  });

  describe('sliding windows (sliding-sum)', () => {
    it('creates and updates left and right windows as Kafka Streams does, skipping null values', async () => {
      expect(await runCase(SLIDING_SUM)).to.deep.equal(lines(SLIDING, SLIDING_OUTPUT));
    });
  });

  describe('session windows (session-sum)', () => {
    it('merges sessions with tombstones for the merged ones, and drops records whose session ends before close time', async () => {
      expect(await runCase(SESSIONS)).to.deep.equal(lines(SESSION, SESSION_OUTPUT));
    });

    it('still does when both restart on fresh state before a record that moves stream time on', async () => {
      expect(await runCase(SESSIONS, { restartBefore: at(SESSION_INPUT, 'b', 17_000) })).to.deep.equal(lines(SESSION, SESSION_OUTPUT));
    });

    it('after a restart, still drops a record the first run would have dropped, where Kafka Streams (its stream time starting again) accepts it', async () => {
      const { sluice, kafkaStreams } = await runDiffering(SESSIONS, { restartBefore: at(SESSION_INPUT, 'a', 4_000) });
      expect(kafkaStreams, "Kafka Streams' output").to.deep.equal(lines(SESSION, SESSION_OUTPUT_LATE_RESTART));
      expect(sluice, 'as without the restart').to.deep.equal(lines(SESSION, SESSION_OUTPUT));
    });
  });

  describe('final results (suppress until the window closes)', () => {
    it('emits each tumbling window once, when stream time reaches its end plus grace', async () => {
      expect(await runCase(TUMBLING_FINAL)).to.deep.equal(lines(TIME, TUMBLING_FINAL_OUTPUT));
    });

    it('still does when both restart on fresh state before the record that closes the last windows', async () => {
      expect(await runCase(TUMBLING_FINAL, { restartBefore: at(TUMBLING_FINAL_INPUT, 'z', 100_000) })).to.deep.equal(lines(TIME, TUMBLING_FINAL_OUTPUT));
    });

    it('emits sessions when they close, not the tombstones of merged ones; once, where Kafka Streams emits a session again when a record at close time reopens it', async () => {
      const { sluice, kafkaStreams } = await runDiffering(SESSIONS_FINAL);
      expect(kafkaStreams, "Kafka Streams' output").to.deep.equal(lines(SESSION, SESSION_FINAL_OUTPUT));
      // Sluice closes a session once stream time is past its end + gap + grace: a [0,0] has not
      // closed when a@0 arrives, so it is emitted once.
      expect(sluice).to.deep.equal(lines(SESSION, SESSION_FINAL_OUTPUT.slice(1)));
    });
  });
});
