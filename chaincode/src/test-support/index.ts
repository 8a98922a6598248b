export { InMemoryLedger, testIdentity, type CommittedTransaction, type TestIdentity } from './in-memory-ledger';
