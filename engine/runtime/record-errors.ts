import type { ErrorHandling } from '../dsl/graph.ts';
import { describeCause, ProcessingError, SluiceError } from '../errors.ts';
import type { RecordOutput } from './record-output.ts';
import { recordSize, type ConsumedRecord, type ProducerRecord, type RecordHeader } from '../kafka/records.ts';
import type { Logger } from '../observability/logger.ts';
import { headerValue } from '../processors/processor.ts';

/** Headers a dead-letter record carries besides the original ones. */
export const DeadLetterHeaders = {
  topic: 'sluice.source.topic',
  partition: 'sluice.source.partition',
  offset: 'sluice.source.offset',
  stage: 'sluice.error.stage',
  operator: 'sluice.error.operator',
  errorClass: 'sluice.error.class',
  errorMessage: 'sluice.error.message',
  /** Present when the record did not fit the dead-letter topic whole: what was cut, e.g. `value:1048576>999000`. */
  truncated: 'sluice.dead-letter.truncated',
} as const;

/** A record that failed, with the bytes it arrived with. */
export interface FailedRecord {
  raw: ConsumedRecord;
  /** `late`: a windowed operator dropped it because its windows had closed. */
  stage: 'deserialization' | 'processing' | 'late';
  operator: string;
  error: unknown;
}

/** Thrown through the operators when a handler says stop; the processing loop catches it. */
export class StopProcessing extends Error {
  readonly reason: SluiceError;

  constructor(reason: SluiceError) {
    super(reason.message);
    this.reason = reason;
  }
}

/** The fields every log line about a record carries, correlation and causation ids included. */
export function recordLogFields(record: { topic: string; partition: number; offset: number; headers?: RecordHeader[] }): Record<string, unknown> {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    correlation_id: headerValue(record.headers, 'correlation_id'),
    causation_id: headerValue(record.headers, 'causation_id'),
  };
}

/**
 * Carries out an {@link ErrorHandling} decision for a failed record: stop (by throwing
 * {@link StopProcessing}), log and skip, or send the original bytes and headers to a
 * dead-letter topic with the failure described in headers. Nothing is skipped silently.
 */
export class RecordErrors {
  deadLettered = 0;
  skipped = 0;
  /** Records windowed operators dropped as late, by store. */
  readonly late = new Map<string, number>();
  private lastLateLog = Number.NEGATIVE_INFINITY;
  /** Records operators dropped as they are specified to (a join's null key), by operator. */
  readonly dropped = new Map<string, number>();
  /** Records that failed, by the node they failed in (whatever the handling then did with them). */
  readonly failed = new Map<string, number>();
  private lastDropLog = Number.NEGATIVE_INFINITY;
  private readonly producer: RecordOutput;
  private readonly log: Logger;

  constructor(producer: RecordOutput, log: Logger) {
    this.producer = producer;
    this.log = log;
  }

  handle(handling: ErrorHandling, failure: FailedRecord): void {
    this.failed.set(failure.operator, (this.failed.get(failure.operator) ?? 0) + 1);
    const fields = { ...recordLogFields(failure.raw), operator: failure.operator, stage: failure.stage, err: describeCause(failure.error) };
    if (handling === 'fail') {
      const where = `${failure.raw.topic}[${failure.raw.partition}]@${failure.raw.offset}`;
      const reason =
        failure.stage === 'deserialization' && failure.error instanceof SluiceError
          ? failure.error
          : new ProcessingError(failure.operator, where, failure.error);
      this.log.error(fields, 'record failed; stopping as configured (fail)');
      throw new StopProcessing(reason);
    }
    if (handling === 'log-and-continue') {
      this.skipped++;
      this.log.warn(fields, 'record failed; skipped as configured (log-and-continue)');
      return;
    }
    this.deadLetter(handling.deadLetterTopic, failure);
    this.log.warn({ ...fields, deadLetterTopic: handling.deadLetterTopic }, 'record failed; sent to the dead-letter topic');
  }

  /** Sends a record's original bytes and what happened to it to a dead-letter topic. */
  deadLetter(topic: string, failure: FailedRecord): void {
    this.producer.send(deadLetterRecord(topic, failure, this.producer.recordLimit(topic)));
    this.deadLettered++;
  }

  /** Logs late records, at most once a minute, with the counts so far. */
  noteLate(late: LateRecord): void {
    const now = Date.now();
    if (now - this.lastLateLog < 60_000) return;
    this.lastLateLog = now;
    this.log.warn({ ...recordLogFields(late.raw), operator: late.operator, store: late.store, reason: late.reason, lateSoFar: Object.fromEntries(this.late) }, 'late records dropped (their windows had closed); counted in sluice_late_records_total');
  }

  /**
   * Counts a record an operator dropped by its specification (`sluice_dropped_records_total`,
   * per operator), as Kafka Streams counts its dropped records; a warning at most once a minute
   * says where and why.
   */
  drop(raw: ConsumedRecord | undefined, operator: string, reason: string): void {
    this.dropped.set(operator, (this.dropped.get(operator) ?? 0) + 1);
    const now = Date.now();
    if (now - this.lastDropLog < 60_000) return;
    this.lastDropLog = now;
    this.log.warn({ ...(raw ? recordLogFields(raw) : {}), operator, reason, droppedSoFar: Object.fromEntries(this.dropped) }, 'records dropped; counted in sluice_dropped_records_total');
  }
}

/** A record a windowed operator dropped because its windows had closed. */
export interface LateRecord {
  raw: ConsumedRecord;
  operator: string;
  store: string;
  reason: string;
  /** Where it goes besides being counted: a dead-letter topic, or nowhere. */
  onLate: { deadLetterTopic: string } | undefined;
}

/**
 * Counts a late record (`sluice_late_records_total`, per store) and sends it to the operator's
 * late-record topic, if it has one, with its original bytes and the reason. Late records are
 * routine (Kafka Streams drops them with a metric): a warning at most once a minute says how
 * many there were.
 */
export function dropLate(errors: RecordErrors, late: LateRecord): void {
  errors.late.set(late.store, (errors.late.get(late.store) ?? 0) + 1);
  if (late.onLate !== undefined) {
    errors.deadLetter(late.onLate.deadLetterTopic, { raw: late.raw, stage: 'late', operator: late.operator, error: new Error(late.reason) });
  }
  errors.noteLate(late);
}

/**
 * The dead-letter record: original key, value and headers, plus where it came from and why it
 * failed. One that would not fit the topic (`maxBytes`) is cut to fit, never refused: the value
 * first, then the original headers, then the key, with a header saying what was cut.
 */
export function deadLetterRecord(topic: string, failure: FailedRecord, maxBytes = Number.POSITIVE_INFINITY): ProducerRecord {
  const { raw, error } = failure;
  const errorClass = error instanceof Error ? error.name : typeof error;
  const about: RecordHeader[] = [
    { [DeadLetterHeaders.topic]: raw.topic },
    { [DeadLetterHeaders.partition]: String(raw.partition) },
    { [DeadLetterHeaders.offset]: String(raw.offset) },
    { [DeadLetterHeaders.stage]: failure.stage },
    { [DeadLetterHeaders.operator]: failure.operator },
    { [DeadLetterHeaders.errorClass]: errorClass },
    { [DeadLetterHeaders.errorMessage]: describeCause(error).slice(0, 2000) },
  ];
  const whole: ProducerRecord = { topic, key: raw.key, value: raw.value, timestamp: raw.timestamp, headers: [...(raw.headers ?? []), ...about] };
  let excess = recordSize(whole) - maxBytes;
  if (excess <= 0) return whole;
  // Room for the header that says what was cut.
  excess += 10 + DeadLetterHeaders.truncated.length + 80;
  const cuts: string[] = [];
  let { key, value } = raw;
  let headers = raw.headers ?? [];
  if (value !== null && value.length > 0) {
    const kept = Math.max(0, value.length - excess);
    cuts.push(`value:${value.length}>${kept}`);
    excess -= value.length - kept;
    value = value.subarray(0, kept);
  }
  if (excess > 0 && headers.length > 0) {
    const size = recordSize({ key: null, value: null, headers }) - recordSize({ key: null, value: null });
    cuts.push(`headers:${headers.length}>0`);
    excess -= size;
    headers = [];
  }
  if (excess > 0 && key !== null && key.length > 0) {
    const kept = Math.max(0, key.length - excess);
    cuts.push(`key:${key.length}>${kept}`);
    key = key.subarray(0, kept);
  }
  return { topic, key, value, timestamp: raw.timestamp, headers: [...headers, ...about, { [DeadLetterHeaders.truncated]: cuts.join(',') }] };
}

/** Every handling the nodes name: their error handling and, for windowed operators, where late records go. */
export function nodeHandlings(nodes: ReadonlyArray<{ onError: ErrorHandling; onLate?: { deadLetterTopic: string } }>): ErrorHandling[] {
  return nodes.flatMap((n) => (n.onLate ? [n.onError, n.onLate] : [n.onError]));
}

/** Every dead-letter topic named in a set of handlers. */
export function deadLetterTopics(handlings: Iterable<ErrorHandling>): string[] {
  const topics = new Set<string>();
  for (const h of handlings) if (typeof h === 'object') topics.add(h.deadLetterTopic);
  return [...topics];
}
