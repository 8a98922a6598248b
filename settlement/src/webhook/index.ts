export * from './callback-verifier.js';
export * from './protocol.js';
export * from './signature.js';
export * from './webhook-adapter.js';
