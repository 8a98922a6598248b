import { agreementIndexer } from './agreement-indexer.js';
import { credentialIndexer } from './credential-indexer.js';
import type { DomainIndexer } from './domain-indexer.js';
import { reputationIndexer } from './reputation-indexer.js';

/**
 * Every domain the audit index keeps records of, like the contracts are registered in
 * the chaincode's index: adding a domain is one entry here (and its tables and queries).
 * A transaction's writes are applied in this order, then in each indexer's object-type order.
 */
export const domainIndexers: readonly DomainIndexer[] = [agreementIndexer, credentialIndexer, reputationIndexer];
