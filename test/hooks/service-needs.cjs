// Which services each test file needs: the local Kafka broker (`kafka`), schema registry
// (`registry`) and PostgreSQL (`postgres`). The root hook (test/hooks/broker.ts) starts the
// services the loaded files need, and no others; `npm run test:unit` runs the files that need
// none. Patterns are paths from the repository root, where `**/` is any number of folders and
// `*` anything but a `/`; the first that matches a file decides. A file no pattern matches needs
// every service, so a new test works when run alone; add it here when it needs less.
'use strict';

/** @type {Array<[pattern: string, services: Array<'kafka' | 'registry' | 'postgres'>]>} */
const needs = [
  // No service: pure functions, stores on LevelDB, the compiler, the TestDriver.
  ['test/state/**/*.test.ts', []],
  ['test/observability/**/*.test.ts', []],
  ['test/dsl/**/*.test.ts', []],
  ['test/topology/**/*.test.ts', []],
  ['test/processors/**/*.test.ts', []],
  ['test/hooks/**/*.test.ts', []],
  ['test/local/**/*.test.ts', []], // the services' shared skeleton, on a small service of its own
  ['test/docker/**/*.test.ts', []],
  ['test/architecture/**/*.test.ts', []],
  ['test/docs/**/*.test.ts', []],
  ['test/errors/**/*.test.ts', []],
  ['test/cli/topology-files.test.ts', []],
  ['test/cli/engine-build.test.ts', []],
  ['test/cli/local-services.test.ts', []],
  ['test/kafka/murmur2.test.ts', []],
  ['test/extensions/mutations/conflicts.test.ts', []],
  ['test/extensions/mutations/priority.test.ts', []],
  ['test/runtime/lifecycle.test.ts', []],
  ['test/serde/serdes.test.ts', []],
  ['test/serde/stack-safe-json.test.ts', []],
  ['test/serde/avro.test.ts', []], // an in-memory (mock://) registry
  ['test/serde/schemas.test.ts', []],
  ['test/testing/test-driver.test.ts', []], // Avro through the in-process registry when none is named
  ['test/windows/time-windows.test.ts', []], // the TestDriver
  ['test/windows/window-index.test.ts', []],
  ['test/windows/describe.test.ts', []],
  ['test/joins/stream-table.test.ts', []], // the TestDriver
  ['test/joins/global-table.test.ts', []], // the TestDriver
  ['test/joins/table-groupby.test.ts', []],
  ['test/runtime/task-metadata.test.ts', []],
  ['test/runtime/partition-queues.test.ts', []],
  ['test/runtime/kept-tasks.test.ts', []],
  ['test/async/async-runner.test.ts', []],
  ['test/standby/standby-placement.test.ts', []],
  ['test/async/async-operators.test.ts', []], // the TestDriver
  // PostgreSQL, with or without the broker.
  ['test/sinks/postgres.test.ts', ['postgres']],
  ['test/testing/test-driver-aggregator.test.ts', ['postgres']],
  ['test/sinks/**/*.test.ts', ['kafka', 'postgres']],
  ['test/topologies/deployable.test.ts', []],
  ['test/topologies/mutation-aggregator.test.ts', ['kafka', 'postgres']],
  ['test/console/conflicts.test.ts', ['kafka', 'postgres']], // and Chromium, for the browser
  ['test/console/avro.test.ts', ['kafka', 'registry']], // and Chromium, for the browser
  // The schema registry and the broker.
  ['test/serde/**/*.test.ts', ['kafka', 'registry']],
  // The broker only.
  ['test/chaos/**/*.test.ts', ['kafka']],
  ['test/async/**/*.test.ts', ['kafka']],
  ['test/console/**/*.test.ts', ['kafka']], // and Chromium, for the browser
  ['test/compat/**/*.test.ts', ['kafka']], // and Java with Maven, for the Kafka Streams side
  ['test/iq/**/*.test.ts', ['kafka']],
  ['test/kafka/**/*.test.ts', ['kafka']],
  ['test/mutations/**/*.test.ts', ['kafka']],
  ['test/extensions/**/*.test.ts', ['kafka']],
  ['test/runtime/**/*.test.ts', ['kafka']],
  ['test/topologies/**/*.test.ts', ['kafka']],
  ['test/windows/**/*.test.ts', ['kafka']],
  ['test/joins/**/*.test.ts', ['kafka']],
  ['test/standby/**/*.test.ts', ['kafka']],
];

const ALL = ['kafka', 'registry', 'postgres'];

/** A pattern as a regular expression over a path with `/` separators. */
function toRegExp(pattern) {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\*\*\//g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '(?:[^/]+/)*')}$`);
}

const compiled = needs.map(([pattern, services]) => ({ pattern, regExp: toRegExp(pattern), services }));

/** The services one test file needs, by its path from the repository root. */
function servicesOf(file) {
  const normalized = file.split('\\').join('/');
  const found = compiled.find((n) => n.regExp.test(normalized));
  return found ? found.services : ALL;
}

/** The patterns of the files that need no service: what `npm run test:unit` runs. */
const unitPatterns = needs.filter(([, services]) => services.length === 0).map(([pattern]) => pattern);

/** True when `file` (from the repository root) matches `pattern`. */
function matches(pattern, file) {
  return toRegExp(pattern).test(file.split('\\').join('/'));
}

module.exports = { servicesOf, unitPatterns, matches, ALL };
