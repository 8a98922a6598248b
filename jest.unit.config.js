// Tests are compiled by `tsc -b` first; jest runs the emitted JavaScript so that
// ES modules, decorators and project references behave exactly as in production.
process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= 'warning';

export default {
  displayName: 'unit',
  roots: ['<rootDir>/chaincode', '<rootDir>/gateway', '<rootDir>/network', '<rootDir>/settlement', '<rootDir>/api'],
  testMatch: ['**/dist/**/*.test.js'],
  testPathIgnorePatterns: ['/node_modules/'],
  testEnvironment: 'node',
  transform: {},
};
