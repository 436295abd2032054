// mocha settings. `npm test` runs every test; TEST=path[,path] runs only those files.
module.exports = {
  'node-option': ['import=tsx'],
  spec: process.env.TEST ? process.env.TEST.split(',') : ['test/**/*.test.ts'],
  require: ['test/hooks/broker.ts'],
  timeout: 60_000,
  slow: 5_000,
  reporter: 'spec',
  exit: true,
};
