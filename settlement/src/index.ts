export * from './provider.js';
export * from './outbox/schema.js';
export * from './settlement-service.js';
export * from './reconciliation.js';
export * from './json/member-names.js';
