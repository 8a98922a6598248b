import { agreementIndexer } from './agreement-indexer.js';
import { credentialIndexer } from './credential-indexer.js';
import type { DomainIndexer } from './domain-indexer.js';
import { governanceIndexer } from './governance-indexer.js';
import { ipIndexer } from './ip-indexer.js';
import { licensingIndexer } from './licensing-indexer.js';
import { provenanceIndexer } from './provenance-indexer.js';
import { reputationIndexer } from './reputation-indexer.js';

/**
 * Every domain the audit index keeps records of, like the contracts are registered in
 * the chaincode's index: adding a domain is one entry here (and its tables and queries).
 * A transaction's writes are applied in this order, then in each indexer's object-type
 * order: IP before licensing (a licence's owners are the work's), agreements before
 * provenance (an erasure receipt of agreement terms names the agreement's parties).
 */
export const domainIndexers: readonly DomainIndexer[] = [
  agreementIndexer,
  credentialIndexer,
  reputationIndexer,
  governanceIndexer,
  ipIndexer,
  licensingIndexer,
  provenanceIndexer,
];
