export * from './sandbox-provider.js';
export * from './settlement-configuration.js';
