// mocha settings. `npm test` runs every test; `npm run test:unit` only those that need no
// service (no broker, registry or database; see test/hooks/service-needs.cjs); TEST=path[,path]
// runs only those files. The root hook starts the services the loaded files need.
const { unitPatterns } = require('./test/hooks/service-needs.cjs');

function spec() {
  if (process.env.TEST) return process.env.TEST.split(',');
  if (process.env.SLUICE_TEST_SUITE === 'unit') return unitPatterns;
  return ['test/**/*.test.ts'];
}

module.exports = {
  'node-option': ['import=tsx'],
  spec: spec(),
  require: ['test/hooks/broker.ts'],
  timeout: 60_000,
  slow: 5_000,
  reporter: 'spec',
  exit: true,
};
