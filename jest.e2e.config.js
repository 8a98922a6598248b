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
  // A suite that fails half-way can leave a network client open (a gRPC channel, a CA
  // session); the global teardown has stopped the network by then, so the run ends with its
  // result instead of waiting on that client until CI's time limit.
  forceExit: true,
  // Each test's duration in the log shows where a slow run spends its time.
  verbose: true,
};
