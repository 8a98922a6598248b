/*
 * The audit index as the benchmarks and operator tools use it: the block indexer, the
 * follower, the queries and the synthetic blocks the benchmark loads through the indexer.
 */
export { BlockIndexer, indexedHeight, auditIndexCheckpointName } from './block-indexer.js';
export { IndexFollower } from './index-follower.js';
export { IndexQueries } from './index-queries.js';
export { domainIndexers } from './domain-indexers.js';
export * from './synthetic-blocks.js';
export { openDatabase, type Db } from '../db/database.js';
