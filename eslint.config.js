// ESLint flat config. Besides the TypeScript rules it keeps the project's boundaries mechanical:
// only engine/kafka/ imports the Kafka client, only state/leveldb/ imports classic-level,
// state/ never reaches into engine/, and scripts/ and bench/ never into test/.
import tseslint from 'typescript-eslint';

const kafkaClient = {
  name: '@confluentinc/kafka-javascript',
  message: 'Only engine/kafka/ may import the Kafka client: use its adapters instead.',
};
const levelDb = {
  name: 'classic-level',
  message: 'Only the LevelDB layer of state/ (state/leveldb/) may import classic-level.',
};
const engine = { group: ['**/engine/**'], message: 'state/ must not depend on engine/.' };
const tests = { group: ['**/test/**'], message: 'Only tests import from test/: move what scripts/ or bench/ share with the tests out of it (e.g. scripts/chaos/).' };

/** The imports a folder may not use. Later blocks win, so narrower folders come last. */
function forbid(files, paths, patterns = []) {
  return { files, rules: { 'no-restricted-imports': ['error', { paths, patterns }] } };
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
  forbid(['engine/kafka/**'], [levelDb]),
  forbid(['scripts/**', 'bench/**'], [kafkaClient, levelDb], [tests]),
  // The benchmark's baseline is the raw client itself, on purpose.
  forbid(['bench/systems/raw-client.ts', 'bench/client-apis.ts'], [levelDb], [tests]),
  forbid(['state/**'], [kafkaClient, levelDb], [engine]),
  forbid(['state/leveldb/**'], [kafkaClient], [engine]),
);
