// The public API of Sluice: what topology files and applications import from 'sluice'.
export { StreamsBuilder } from './dsl/builder.ts';
export { Topology, type SourceOptions, type SinkOptions, type StoreOptions } from './dsl/topology.ts';
export { Stream, Splitter, type Named, type OperatorOptions, type ProcessOptions, type ToOptions, type RepartitionOptions } from './dsl/stream.ts';
export { GroupedStream } from './dsl/grouped-stream.ts';
export { Table, type Materialized } from './dsl/table.ts';
export type { ErrorHandling, TopicChooser } from './dsl/graph.ts';
export type { KeyValue } from './processors/map.ts';
export { headerValue, type ProcessorSupplier, type ProcessorInit, type RecordContext, type Forward, type Change, type StoreProvider } from './processors/processor.ts';
export type { KeyValueStore, KeyRange, WriteContext } from '../state/key-value-store.ts';
export { Serdes, serde, type Serde } from './serde/serde.ts';
export { AvroSerde, type AvroSerdeOptions, type SubjectStrategy } from './serde/avro/avro-serde.ts';
export { SchemaRegistry, SchemaRegistryError, type RegistryOptions } from './serde/avro/registry.ts';
export { defineApplication, type ApplicationDefinition, type ApplicationSettings, type ProcessingGuarantee } from './runtime/definition.ts';
export { Application, type RunOptions } from './runtime/application.ts';
export type { ApplicationState } from './runtime/lifecycle.ts';
export { DeadLetterHeaders } from './runtime/record-errors.ts';
export type { RecordHeader } from './kafka/records.ts';
export * from './errors.ts';
