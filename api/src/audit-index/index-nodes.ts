import { z } from 'zod';
import { ledgerKey, splitCompositeKey } from './domain-indexer.js';

/*
 * Rows of the audit index as the API answers them (GraphQL nodes and REST items alike).
 * `record` is the ledger's public record as the indexed transaction wrote it.
 */

type Row = Record<string, unknown>;

/** Columns hold strings, or numbers (bigint columns come back as numbers from SQLite, strings from PostgreSQL). */
function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString();
  throw new Error(`the index column ${column} holds no value`);
}
const optionalText = (row: Row, column: string): string | null => (row[column] == null ? null : text(row, column));
const party = (row: Row, prefix: string) => ({
  mspId: text(row, `${prefix}_msp`),
  userId: text(row, `${prefix}_user`),
});
const optionalParty = (row: Row, prefix: string) => (row[`${prefix}_msp`] == null ? null : party(row, prefix));
const record = (row: Row): unknown => JSON.parse(text(row, 'record'));

const partyNode = z.object({ mspId: z.string(), userId: z.string() });
const changed = {
  updatedAt: z.string(),
  updatedTxId: z.string(),
  /** The block of the transaction that last wrote the record. */
  updatedBlock: z.string(),
};
const unknownRecord = z.unknown().describe("The ledger's public record as last written");

export const indexedAgreementSchema = z.object({
  agreementId: z.string(),
  title: z.string(),
  status: z.string(),
  client: partyNode,
  freelancer: partyNode,
  evaluator: partyNode.nullable(),
  milestoneCount: z.number().int(),
  createdAt: z.string(),
  createdTxId: z.string(),
  ...changed,
  record: unknownRecord,
});

export function agreementNode(row: Row): z.output<typeof indexedAgreementSchema> {
  return {
    agreementId: text(row, 'agreement_id'),
    title: text(row, 'title'),
    status: text(row, 'status'),
    client: party(row, 'client'),
    freelancer: party(row, 'freelancer'),
    evaluator: optionalParty(row, 'evaluator'),
    milestoneCount: Number(row.milestone_count),
    createdAt: text(row, 'created_at'),
    createdTxId: text(row, 'created_tx_id'),
    updatedAt: text(row, 'updated_at'),
    updatedTxId: text(row, 'updated_tx_id'),
    updatedBlock: text(row, 'updated_block'),
    record: record(row),
  };
}

export const indexedMilestoneSchema = z.object({
  agreementId: z.string(),
  milestoneId: z.string(),
  position: z.number().int(),
  kind: z.string(),
  title: z.string(),
  status: z.string(),
  /** Minor units, as a decimal string. */
  amount: z.string(),
  currency: z.string(),
  dueDate: z.string(),
  client: partyNode,
  freelancer: partyNode,
  ...changed,
  record: unknownRecord,
});

export function milestoneNode(row: Row): z.output<typeof indexedMilestoneSchema> {
  return {
    agreementId: text(row, 'agreement_id'),
    milestoneId: text(row, 'milestone_id'),
    position: Number(row.position),
    kind: text(row, 'kind'),
    title: text(row, 'title'),
    status: text(row, 'status'),
    amount: text(row, 'amount'),
    currency: text(row, 'currency'),
    dueDate: text(row, 'due_date'),
    client: party(row, 'client'),
    freelancer: party(row, 'freelancer'),
    updatedAt: text(row, 'updated_at'),
    updatedTxId: text(row, 'updated_tx_id'),
    updatedBlock: text(row, 'updated_block'),
    record: record(row),
  };
}

export const indexedPayoutSchema = z.object({
  instructionId: z.string(),
  agreementId: z.string(),
  milestoneId: z.string(),
  /** fund-escrow, release or refund. */
  kind: z.string(),
  cause: z.string(),
  status: z.string(),
  /** Minor units, as a decimal string. */
  amount: z.string(),
  platformFee: z.string(),
  currency: z.string(),
  client: partyNode,
  payee: partyNode,
  requestedAt: z.string(),
  requestTxId: z.string(),
  /** The compliance check's outcome on payouts to the freelancer (cleared or held) and the credential that cleared it. */
  complianceOutcome: z.string().nullable(),
  complianceCredentialId: z.string().nullable(),
  record: unknownRecord,
});

export function payoutNode(row: Row): z.output<typeof indexedPayoutSchema> {
  return {
    instructionId: text(row, 'instruction_id'),
    agreementId: text(row, 'agreement_id'),
    milestoneId: text(row, 'milestone_id'),
    kind: text(row, 'kind'),
    cause: text(row, 'cause'),
    status: text(row, 'status'),
    amount: text(row, 'amount'),
    platformFee: text(row, 'platform_fee'),
    currency: text(row, 'currency'),
    client: party(row, 'client'),
    payee: party(row, 'payee'),
    requestedAt: text(row, 'requested_at'),
    requestTxId: text(row, 'request_tx_id'),
    complianceOutcome: optionalText(row, 'compliance_outcome'),
    complianceCredentialId: optionalText(row, 'compliance_credential_id'),
    record: record(row),
  };
}

export const indexedCredentialSchema = z.object({
  credentialId: z.string(),
  type: z.string(),
  issuer: partyNode,
  subject: partyNode,
  status: z.string(),
  issuanceDate: z.string(),
  expirationDate: z.string().nullable(),
  issuedAt: z.string(),
  issuedTxId: z.string(),
  ...changed,
  record: unknownRecord,
});

export function credentialNode(row: Row): z.output<typeof indexedCredentialSchema> {
  return {
    credentialId: text(row, 'credential_id'),
    type: text(row, 'type'),
    issuer: party(row, 'issuer'),
    subject: party(row, 'subject'),
    status: text(row, 'status'),
    issuanceDate: text(row, 'issuance_date'),
    expirationDate: optionalText(row, 'expiration_date'),
    issuedAt: text(row, 'issued_at'),
    issuedTxId: text(row, 'issued_tx_id'),
    updatedAt: text(row, 'updated_at'),
    updatedTxId: text(row, 'updated_tx_id'),
    updatedBlock: text(row, 'updated_block'),
    record: record(row),
  };
}

export function reputationNode(row: Row) {
  return {
    kind: text(row, 'kind'),
    subject: party(row, 'subject'),
    /** The completion's client, or the attestation's attester. */
    by: party(row, 'by'),
    agreementId: text(row, 'agreement_id'),
    milestoneId: optionalText(row, 'milestone_id'),
    rating: row.rating == null ? null : Number(row.rating),
    skill: optionalText(row, 'skill'),
    level: row.level == null ? null : Number(row.level),
    recordedAt: text(row, 'recorded_at'),
    txId: text(row, 'tx_id'),
    record: record(row),
  };
}

export const indexedTransactionSchema = z.object({
  transactionId: z.string(),
  blockNumber: z.string(),
  position: z.number().int(),
  headerType: z.string(),
  creatorMspId: z.string(),
  validationCode: z.number().int(),
  /** Fabric's name of the code: VALID, MVCC_READ_CONFLICT, ENDORSEMENT_POLICY_FAILURE… */
  validationName: z.string(),
  timestamp: z.string().nullable(),
  chaincode: z.string().nullable(),
  function: z.string().nullable(),
});

export function transactionNode(row: Row): z.output<typeof indexedTransactionSchema> {
  return {
    transactionId: text(row, 'tx_id'),
    blockNumber: text(row, 'block_number'),
    position: Number(row.position),
    headerType: text(row, 'header_type'),
    creatorMspId: text(row, 'creator_msp'),
    validationCode: Number(row.validation_code),
    validationName: text(row, 'validation_name'),
    timestamp: optionalText(row, 'timestamp'),
    chaincode: optionalText(row, 'chaincode'),
    function: optionalText(row, 'function_name'),
  };
}

export const keyAccessSchema = z.object({
  namespace: z.string(),
  /** A private data collection; its keys and values appear only as hashes. */
  collection: z.string().nullable(),
  access: z.enum(['read', 'write', 'delete']),
  key: z.string().nullable(),
  /** A composite key's object type and attributes, e.g. ["agreement", "A-17"]. */
  keyParts: z.array(z.string()).nullable(),
  keyHash: z.string().nullable(),
  valueHash: z.string().nullable(),
});

export function keyAccessNode(row: Row): z.output<typeof keyAccessSchema> {
  const stored = optionalText(row, 'key');
  const key = stored === null ? null : ledgerKey(stored);
  const parts = key === null ? undefined : splitCompositeKey(key);
  return {
    namespace: text(row, 'namespace'),
    collection: optionalText(row, 'collection'),
    access: text(row, 'access') as 'read' | 'write' | 'delete',
    key,
    keyParts: parts === undefined ? null : [parts.objectType, ...parts.attributes],
    keyHash: optionalText(row, 'key_hash'),
    valueHash: optionalText(row, 'value_hash'),
  };
}

export const indexedBlockSchema = z.object({
  blockNumber: z.string(),
  hash: z.string(),
  previousHash: z.string(),
  dataHash: z.string(),
  transactionCount: z.number().int(),
});

export function blockNode(row: Row): z.output<typeof indexedBlockSchema> {
  return {
    blockNumber: text(row, 'block_number'),
    hash: text(row, 'hash'),
    previousHash: text(row, 'previous_hash'),
    dataHash: text(row, 'data_hash'),
    transactionCount: Number(row.tx_count),
  };
}
