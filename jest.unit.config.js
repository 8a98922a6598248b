// Tests are compiled by `tsc -b` first; jest runs the emitted JavaScript so that
// ES modules, decorators and project references behave exactly as in production.
process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= 'warning';

export default {
  displayName: 'unit',
  roots: [
    '<rootDir>/chaincode',
    '<rootDir>/gateway',
    '<rootDir>/network',
    '<rootDir>/settlement',
    '<rootDir>/api',
    '<rootDir>/bench',
  ],
  testMatch: ['**/dist/**/*.test.js'],
  testPathIgnorePatterns: ['/node_modules/'],
  testEnvironment: 'node',
  // Set-ups start real HTTP servers and hash passwords with scrypt. `npm test` runs these
  // beside the end-to-end suites, and while those start a network of their own a set-up
  // that takes 2 s on a quiet 2-core host has taken over 30 s. The limit is there to catch
  // a hang, not to time anything: timings are measured in bench/, never asserted here.
  testTimeout: 120_000,
  // jest leaves one core idle by default (cores − 1 workers); the suites are CPU-bound,
  // so on a 2-core host one worker per core halves the wall time.
  maxWorkers: '100%',
  // Modules loaded through `--experimental-vm-modules` are not freed between test files,
  // so one process running every file grows until it runs out of heap (3.7 GB, after 157
  // of 163 files). A worker past this much memory between files is replaced; the limit
  // also keeps `--maxWorkers=1` (as `npm test` runs) in a worker instead of in band.
  workerIdleMemoryLimit: '1GB',
  transform: {},
};
