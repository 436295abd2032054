// The public API of Sluice: what topology files and applications import from 'sluice'. The
// mutation aggregator's operators are an extension with an entry of their own, 'sluice/mutations'.
export { StreamsBuilder } from './dsl/builder.ts';
export { Topology, type SourceOptions, type SinkOptions, type StoreOptions } from './dsl/topology.ts';
export type {
  Stream,
  Table,
  GroupedStream,
  GroupedTable,
  Splitter,
  SinkStreams,
  StreamOperator,
  OperatorScope,
  DedupeOptions,
  VersionGateOptions,
  ProjectOptions,
  BatchOptions,
  WindowedCounts,
  TimeWindowedStream,
  SessionWindowedStream,
  WindowedTable,
} from './dsl/api.ts';
export { TimeWindows, SlidingWindows, SessionWindows, type Windowed, type WindowBounds } from './processors/windows/specs.ts';
export { JoinWindows } from './processors/windows/join-windows.ts';
export { Suppressed } from './dsl/suppressed.ts';
export type { Named, OperatorOptions, ProcessOptions, ToOptions, RepartitionOptions, JoinOptions, StreamJoinOptions, TableJoinOptions, ForeignKeyJoinOptions, PrioritizeOptions, Materialized, WindowedMaterialized, KnownSerdes } from './dsl/stream-options.ts';
export type { GlobalTableOptions, AsyncOptions } from './dsl/stream-options.ts';
export type { AsyncCallContext, AsyncCallOptions, RetryOptions } from './processors/async/async-options.ts';
export type { ErrorHandling, TopicChooser, StoreSpec, ProcessorSpec, TimestampExtractor, ExtractableRecord } from './dsl/graph.ts';
export type { GlobalErrorHandling } from './dsl/graph.ts';
export type { GlobalTable } from './dsl/api.ts';
export type { RouteSpec, RouteHandler, RouteRequest, RouteAnswer, RouteContext, TopicTarget, WrittenRecord } from './iq/routes.ts';
export { QueryError } from './iq/query-error.ts';
export { MISSING_DEPENDENCIES_HEADER, type Batch, type BatchedRecord } from './processors/batch.ts';
export type { PriorityFunction } from './processors/prioritize.ts';
export type { Projector, VersionCheck } from './processors/project.ts';
export type { KeyValue } from './processors/map.ts';
export {
  headerValue,
  type ProcessorSupplier,
  type ProcessorInit,
  type RecordProcessor,
  type NotAPromise,
  type RecordContext,
  type Forward,
  type Change,
  type StoreProvider,
  type CommitWork,
  type TopicOffset,
  type PunctuationType,
  type ProcessorMetadata,
} from './processors/processor.ts';
export type { Sink, SinkContext, SinkTask, SinkRecord, SinkOutcome, FailedWrite } from './processors/sink.ts';
export { toPostgres, type PostgresSinkOptions, type PostgresTransaction } from './sinks/postgres/postgres-sink.ts';
export type { AsyncCallbackRefused, Synchronous } from './processors/synchronous.ts';
export { RejectedHeaders } from './processors/gates.ts';
export type { KeyValueStore, KeyRange, WriteContext } from '../state/key-value-store.ts';
export { Serdes, serde, type Serde } from './serde/serde.ts';
export { stringifyJson } from './serde/stack-safe-json.ts';
export { AvroSerde, type AvroSerdeOptions, type SubjectStrategy } from './serde/avro/avro-serde.ts';
export { SchemaRegistry, SchemaRegistryError, type RegistryOptions } from './serde/avro/registry.ts';
export { defineApplication, type ApplicationDefinition, type ApplicationSettings, type ProcessingGuarantee } from './runtime/definition.ts';
export { Application, type RunOptions } from './runtime/application.ts';
export { launch, type Instance } from './runtime/launch.ts';
export type { StreamThreads } from './runtime/threads/stream-threads.ts';
export type { ApplicationState } from './runtime/lifecycle.ts';
export { DeadLetterHeaders } from './runtime/record-errors.ts';
export type { RecordHeader } from './kafka/records.ts';
// The error catalogue (docs/errors.md), class by class: errors.ts also holds helpers of its own.
export {
  SluiceError,
  ConfigError,
  MissingToolError,
  LocalBrokerError,
  LocalPostgresError,
  KafkaOperationError,
  UnknownTopicError,
  TopicExistsError,
  RecordInputError,
  DeliveryError,
  RecordTooLargeError,
  TransactionError,
  type TransactionFailure,
  OperationTimeoutError,
  SerdeError,
  TopologyError,
  TopologyFileError,
  ProcessingError,
  AsyncCallbackError,
  AsyncCallFailedError,
  AsyncTimeoutError,
  InvalidRecordError,
  JoinerError,
  ApplicationError,
  ExternalSystemUnavailable,
  IllegalStateError,
  UsageError,
  StoreError,
} from './errors.ts';
export { StoreCorruptedError, StoreOpenError } from '../state/leveldb/store-errors.ts';
export { TaskDirectoryLockedError } from '../state/task-directory.ts';
export { KeyFormatError } from './iq/key-format.ts';
export { TestDriver, TestInputTopic, TestOutputTopic, type TestDriverOptions, type TestRecord, type TestStore, type PipeOptions } from './testing/test-driver.ts';
