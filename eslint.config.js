// ESLint flat config. Besides the TypeScript rules it keeps the project's boundaries mechanical:
// only engine/kafka/ imports the Kafka client, only state/leveldb/ imports classic-level,
// state/ never reaches into engine/, and scripts/ and bench/ never into test/. In the engine, the
// DSL only records a graph (it imports neither the runtime, the Kafka adapters nor the sinks),
// processors see records but neither the Kafka client nor the runtime, the core (dsl, topology,
// runtime, iq) names no scenario (no sink and no PostgreSQL), and extensions (engine/extensions/)
// import the engine, never the reverse. Import cycles are checked by
// test/architecture/import-cycles.test.ts.
import tseslint from 'typescript-eslint';

const kafkaClient = {
  name: '@confluentinc/kafka-javascript',
  message: 'Only engine/kafka/ may import the Kafka client: use its adapters instead.',
};
const levelDb = {
  name: 'classic-level',
  message: 'Only the LevelDB layer of state/ (state/leveldb/) may import classic-level.',
};
const postgres = {
  name: 'pg',
  message: 'Only the PostgreSQL sink (engine/sinks/postgres/) talks to PostgreSQL: the engine core names no external system.',
};
const engine = { group: ['**/engine/**'], message: 'state/ must not depend on engine/.' };
const tests = { group: ['**/test/**'], message: 'Only tests import from test/: move what scripts/ or bench/ share with the tests out of it (e.g. scripts/chaos/).' };
const extensions = {
  group: ['**/extensions/**'],
  message: 'The engine never imports an extension: an extension (engine/extensions/<name>/) imports the engine and plugs in through its seams.',
};
const runtime = { group: ['**/runtime/**'], message: 'The DSL and the processors do not reach into the runtime: they record a graph, and processors get what they need in ProcessorInit.' };
const kafkaAdapters = { group: ['**/kafka/**'], message: 'The DSL only records a graph: it does not import engine/kafka/.' };
const kafkaButRecords = {
  group: ['**/kafka/**', '!**/kafka/records.ts'],
  message: 'Processors see records (engine/kafka/records.ts), not the Kafka adapters: what they need comes in ProcessorInit.',
};
const sinks = {
  group: ['**/sinks/**'],
  message: 'The engine core takes any Sink (engine/processors/sink.ts); concrete sinks live in engine/sinks/ and topologies import them.',
};

/** The imports a folder may not use. Later blocks win, so narrower folders come last. */
function forbid(files, paths, patterns = [], ignores = []) {
  return { files, ignores, rules: { 'no-restricted-imports': ['error', { paths, patterns }] } };
}

export default tseslint.config(
  { ignores: ['.mocharc.cjs', 'node_modules/', '.sluice/', 'dist/', 'bench/results/', 'bench/peers/**/target/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  forbid(['**/*.ts', '**/*.js'], [kafkaClient, levelDb]),
  forbid(['engine/**'], [kafkaClient, levelDb], [extensions], ['engine/extensions/**']),
  forbid(['engine/kafka/**'], [levelDb], [extensions]),
  forbid(['engine/topology/**', 'engine/runtime/**', 'engine/iq/**'], [kafkaClient, levelDb, postgres], [extensions, sinks]),
  forbid(['engine/dsl/**'], [kafkaClient, levelDb, postgres], [extensions, sinks, runtime, kafkaAdapters]),
  forbid(['engine/processors/**'], [kafkaClient, levelDb, postgres], [extensions, runtime, kafkaButRecords]),
  forbid(['scripts/**', 'bench/**'], [kafkaClient, levelDb], [tests]),
  // The benchmark's baseline is the raw client itself, on purpose.
  forbid(['bench/systems/raw-client.ts', 'bench/systems/raw-loop.ts', 'bench/client-apis.ts'], [levelDb], [tests]),
  forbid(['state/**'], [kafkaClient, levelDb], [engine]),
  forbid(['state/leveldb/**'], [kafkaClient], [engine]),
);
