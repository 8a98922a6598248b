export * from './accounts.js';
export * from './amount.js';
export * from './camt054.js';
export * from './errors.js';
export * from './file-adapter.js';
export * from './identifiers.js';
export * from './pain001.js';
