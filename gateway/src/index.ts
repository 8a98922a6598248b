export * from './connection-profile.js';
export * from './connections.js';
export * from './contract-client.js';
export * from './errors.js';
export * from './identity.js';
export * from './ledger-gateway.js';
export * from './typed-contract.js';
export * from './certificate-authority.js';
