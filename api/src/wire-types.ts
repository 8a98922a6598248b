/**
 * Types of REST answers declared in the API rather than the chaincode's model, for
 * clients written in TypeScript (the web console) to import instead of re-declaring.
 */
export type { DocumentVerdict } from './credentials/credential-service.js';
export type { VerifiableCredential } from './credentials/w3c-credential.js';
export type { StatementVerdict } from './reputation/statement.js';
export type { Discrepancy, DiscrepancyKind, ReconciliationReport } from '@gigledger/settlement';
