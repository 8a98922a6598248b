// End-to-end suites share one real network that global setup starts (or reuses when
// GIGLEDGER_E2E_REUSE_NETWORK=1) and global teardown stops.
export default {
  displayName: 'e2e',
  roots: ['<rootDir>/test'],
  testMatch: ['**/dist/**/*.e2e.test.js'],
  testEnvironment: 'node',
  transform: {},
  globalSetup: '<rootDir>/test/dist/support/global-setup.js',
  globalTeardown: '<rootDir>/test/dist/support/global-teardown.js',
  testSequencer: '<rootDir>/test/e2e-sequencer.cjs',
  testTimeout: 300000,
  // Each test's duration in the log shows where a slow run spends its time.
  verbose: true,
};
