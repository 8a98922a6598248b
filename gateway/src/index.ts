export * from './connection-profile.js';
export * from './connections.js';
export * from './contract-client.js';
export * from './errors.js';
export * from './identity.js';
export * from './ledger-gateway.js';
export * from './parameter-client.js';
export * from './system-client.js';
