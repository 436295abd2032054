import type { ErrorHandling, TimestampExtractor } from '../../dsl/graph.ts';
import { ApplicationError, describeCause, InvalidRecordError, KafkaOperationError } from '../../errors.ts';
import type { ConsumedRecord } from '../../kafka/records.ts';
import type { Forward, RecordContext } from '../../processors/processor.ts';
import type { CompiledNode, CompiledSink, CompiledSource } from '../../topology/compiled.ts';
import { StopProcessing, type RecordErrors } from '../record-errors.ts';
import type { RecordOutput } from '../record-output.ts';
import type { NodeCount } from '../../observability/node-counts.ts';
import { asTaskCorrupted, FlushFailed } from './task-signals.ts';

/**
 * The pieces of a task's per-record path, built once per task: a source's entry (deserialize,
 * or hand the record to its error handling), a sink's send, the guard that applies a node's
 * error handling to whatever its code throws, and fan-out to several children.
 */

/** What a guard needs of its task. */
export interface GuardedTask {
  readonly id: string;
  /** The record in hand; undefined outside a record (a flush, a punctuation). */
  current(): ConsumedRecord | undefined;
  /** The error to throw for a failure outside any record (see Task.unwritable). */
  unwritable(operator: string, error: unknown): Error;
  readonly errors: RecordErrors;
}

const noop: Forward = () => {};

/** A source's entry: deserializes the record's bytes and passes key and value on. */
export function sourceEntry(source: CompiledSource, next: Forward, errors: RecordErrors, stamp: (timestamp: number) => void, count: NodeCount): (raw: ConsumedRecord) => void {
  const { keySerde, valueSerde, onError, name, timestampExtractor } = source;
  return (raw) => {
    count.records++;
    let key: unknown;
    let value: unknown;
    let timestamp = raw.timestamp;
    try {
      key = keySerde.deserialize(raw.key, raw.topic);
      value = valueSerde.deserialize(raw.value, raw.topic);
      if (timestampExtractor) timestamp = extractTimestamp(name, timestampExtractor, key, value, raw);
    } catch (error) {
      errors.handle(onError, { raw, stage: 'deserialization', operator: name, error });
      return;
    }
    stamp(timestamp);
    next(key, value);
  };
}

/** A source's timestamp extractor's answer, checked: a non-negative finite number of milliseconds. */
function extractTimestamp(source: string, extractor: TimestampExtractor, key: unknown, value: unknown, raw: ConsumedRecord): number {
  const { timestamp, topic, partition, offset, headers } = raw;
  let extracted: unknown;
  try {
    extracted = extractor({ key, value, timestamp, topic, partition, offset, headers });
  } catch (error) {
    throw new InvalidRecordError(source, `its timestampExtractor threw: ${describeCause(error)}`);
  }
  if (typeof extracted !== 'number' || !Number.isFinite(extracted) || extracted < 0) {
    throw new InvalidRecordError(source, `its timestampExtractor gave ${typeof extracted === 'number' ? extracted : typeof extracted}, not a non-negative number of milliseconds`);
  }
  return Math.floor(extracted);
}

/** What a source's serdes must fetch before they can read a record (a writer schema), if anything. */
export function prefetcher(source: CompiledSource): ((raw: ConsumedRecord) => Promise<unknown> | undefined) | undefined {
  const { keySerde, valueSerde } = source;
  if (!keySerde.prefetch && !valueSerde.prefetch) return undefined;
  return (raw) => {
    const key = keySerde.prefetch?.(raw.key, raw.topic);
    const value = valueSerde.prefetch?.(raw.value, raw.topic);
    return key && value ? Promise.all([key, value]) : (key ?? value);
  };
}

/** A sink: serializes and sends with the context's timestamp and headers, to its topic or the one its chooser names. */
export function sinkForward(sink: CompiledSink, producer: RecordOutput, context: RecordContext): Forward {
  const { keySerde, valueSerde, topic } = sink;
  const chooser = typeof topic === 'string' ? undefined : topic;
  return (key, value) => {
    const target = chooser ? chooser(key, value, context) : (topic as string);
    producer.send({
      topic: target,
      key: keySerde.serialize(key, target),
      value: valueSerde.serialize(value, target),
      headers: context.headers,
      timestamp: context.timestamp,
    });
  };
}

/** Counts the records passed to the node, and applies its error handling to anything its own code throws. */
export function guarded(node: Exclude<CompiledNode, CompiledSource>, forward: Forward, task: GuardedTask, count: NodeCount): Forward {
  const handling: ErrorHandling = node.onError;
  const operator = node.name;
  return (key, value) => {
    count.records++;
    try {
      forward(key, value);
    } catch (error) {
      if (error instanceof StopProcessing || error instanceof FlushFailed) throw error;
      // A damaged store is the store's fault, not the operator's or the record's.
      const corrupted = asTaskCorrupted(task.id, error);
      if (corrupted) throw corrupted;
      // A producer that failed fatally cannot write anywhere, dead-letter topics included.
      if (error instanceof KafkaOperationError && error.fatal) {
        throw new StopProcessing(new ApplicationError(`The producer failed fatally: ${error.message}`, { cause: error }));
      }
      const raw = task.current();
      // Outside a record (a cache flush) there are no original bytes to route.
      if (raw === undefined) throw task.unwritable(operator, error);
      task.errors.handle(handling, { raw, stage: 'processing', operator, error });
    }
  };
}

/** Passes each record to every child, in order. */
export function fanOut(children: Forward[]): Forward {
  if (children.length === 0) return noop;
  if (children.length === 1) return children[0]!;
  return (key, value) => {
    for (let i = 0; i < children.length; i++) children[i]!(key, value);
  };
}
