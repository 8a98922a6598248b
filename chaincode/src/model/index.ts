export * from './canonical-json';
export * from './common';
export * from './errors';
export * from './identity';
export * from './parameter';
export * from './spec';
export * from './system';
