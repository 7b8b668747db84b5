/**
 * Six projects, split by what they need:
 *   unit        pure code and the reference merchant over loopback HTTP;
 *   workflows   the Java time-skipping test server, production windows;
 *   api         the API over HTTP, and the activities, on real PostgreSQL and a real
 *               Temporal dev server;
 *   fuzz        property-based requests to every API route, on the api project's services
 *               (FUZZ_RUNS and FUZZ_SEED: test/fuzz/support/settings.ts; `npm run fuzz`);
 *   integration end to end: dev server, PostgreSQL, worker, API and reference merchant;
 *   chaos       the short chaos run: API and worker processes killed, PostgreSQL restarted.
 *               It starts a PostgreSQL (which it restarts) and a dev server of its own,
 *               apart from the other projects' servers, so it has no global setup.
 * Suites run one at a time (`--runInBand` in npm test): the time-skipping server's clock is
 * shared, and a 2-core machine gains nothing from parallel Temporal suites.
 */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
const common = { testEnvironment: 'node', transform, moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'workflows',
      testMatch: ['<rootDir>/test/workflows/**/*.test.ts', '<rootDir>/test/replay/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/time-skipping-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/teardown.ts',
    },
    {
      ...common,
      displayName: 'api',
      testMatch: ['<rootDir>/test/api/**/*.test.ts', '<rootDir>/test/activities/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/services-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/teardown.ts',
    },
    {
      ...common,
      displayName: 'fuzz',
      testMatch: ['<rootDir>/test/fuzz/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/services-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/teardown.ts',
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/services-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/teardown.ts',
    },
    { ...common, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.test.ts'] },
  ],
  testTimeout: 120_000,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
};
