export { InMemoryLedger, testIdentity, type CommittedTransaction, type TestIdentity } from './in-memory-ledger';
export { datasetRegistration, licenceOfferFields, sha256Hex, workRegistration } from './domain-fixtures';
