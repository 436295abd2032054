// The public API of Sluice: what topology files and applications import from 'sluice'.
export { StreamsBuilder } from './dsl/builder.ts';
export { Topology, type SourceOptions, type SinkOptions } from './dsl/topology.ts';
export { Stream, Splitter, type Named, type OperatorOptions, type ToOptions, type RepartitionOptions } from './dsl/stream.ts';
export type { ErrorHandling, TopicChooser } from './dsl/graph.ts';
export type { KeyValue } from './processors/map.ts';
export { headerValue, type ProcessorSupplier, type ProcessorInit, type RecordContext, type Forward } from './processors/processor.ts';
export { Serdes, serde, type Serde } from './serde/serde.ts';
export { defineApplication, type ApplicationDefinition, type ApplicationSettings, type ProcessingGuarantee } from './runtime/definition.ts';
export { Application, type RunOptions } from './runtime/application.ts';
export type { ApplicationState } from './runtime/lifecycle.ts';
export { DeadLetterHeaders } from './runtime/record-errors.ts';
export type { RecordHeader } from './kafka/records.ts';
export * from './errors.ts';
