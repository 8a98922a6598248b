export { InMemoryLedger, type CommittedTransaction, type TestIdentity } from './in-memory-ledger';
