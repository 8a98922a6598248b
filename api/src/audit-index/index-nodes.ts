import { z } from 'zod';
import { namedOrganisations, organisationsInJson, type NamedOrganisations } from '../audit/answer-organisations.js';
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
/**
 * Set by a listing on the rows it answers: organisations a row concerns that neither its
 * columns nor its record name, but that the visibility rule credits (a licence's or an
 * ownership change's work owners now, a block's transaction creators), so that the read
 * log names them and their grants.
 */
export const concernedOrganisations = Symbol('organisations a row concerns beyond its own');

const concernedBy = (row: Row): readonly string[] =>
  (row as { [concernedOrganisations]?: readonly string[] })[concernedOrganisations] ?? [];

/** What the read log's walk takes of a node's record: the MSP ids its JSON text names, unparsed, and those the listing found. */
const recordOrganisations = (row: Row): { readonly [namedOrganisations]: NamedOrganisations } => ({
  [namedOrganisations]: {
    keys: ['record'],
    organisations: () => [...organisationsInJson(text(row, 'record')), ...concernedBy(row)],
  },
});

const parsedRecords = new WeakMap<Row, unknown>();

/**
 * The row's ledger record, parsed when first read and kept with the row: nodes expose it
 * as a getter, so that an answer that never reads it (a GraphQL selection without
 * `record` by a caller whose reads are not logged) parses no row's JSON, and one read
 * twice (walked by the read log, then selected) parses it once.
 */
function record(row: Row): unknown {
  if (!parsedRecords.has(row)) parsedRecords.set(row, JSON.parse(text(row, 'record')));
  return parsedRecords.get(row);
}

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
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
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
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
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
  /**
   * MSP id of the organisation whose settlement service sends it (the first listed in
   * settlementOrganisations when it was issued); null on instructions issued before the
   * ledger named one.
   */
  settlingOrganisation: z.string().nullable(),
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
    settlingOrganisation: optionalText(row, 'settling_organisation'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
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
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
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
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
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
    // A block names no organisation itself: the read log names its transactions' creators.
    ...{ [namedOrganisations]: { keys: [], organisations: () => concernedBy(row) } satisfies NamedOrganisations },
  };
}

/*
 * Governance, IP, licensing and provenance rows. Parties named only by organisation on
 * the ledger (an actor without userId) answer with a null userId.
 */

const actorNode = z.object({ mspId: z.string(), userId: z.string().nullable() });
const actor = (row: Row, prefix: string) => ({
  mspId: text(row, `${prefix}_msp`),
  userId: optionalText(row, `${prefix}_user`),
});
const words = (row: Row, column: string) =>
  text(row, column)
    .split(' ')
    .filter((word) => word !== '');
const optionalNumber = (row: Row, column: string) => (row[column] == null ? null : Number(row[column]));
const recordOf = <Schema extends z.ZodType>(row: Row, schema: Schema): z.output<Schema> => schema.parse(record(row));
const ownerShareNode = z.object({ party: partyNode, shareBps: z.number().int() });
const ownersOnRecord = z.object({ owners: z.array(ownerShareNode) });
const block = { updatedBlock: z.string() };

export const indexedProposalSchema = z.object({
  proposalId: z.string(),
  title: z.string(),
  /** Stored status: open, vetoed or executed; the phase follows from time and votes. */
  status: z.string(),
  proposer: actorNode,
  /** The types of the actions it carries, e.g. `registerIssuer`. */
  actionTypes: z.array(z.string()),
  proposedAt: z.string(),
  votingEndsAt: z.string(),
  executableAt: z.string(),
  expiresAt: z.string(),
  txId: z.string(),
  ...changed,
  record: unknownRecord,
});

export function proposalNode(row: Row): z.output<typeof indexedProposalSchema> {
  return {
    proposalId: text(row, 'proposal_id'),
    title: text(row, 'title'),
    status: text(row, 'status'),
    proposer: actor(row, 'proposer'),
    actionTypes: words(row, 'action_types'),
    proposedAt: text(row, 'proposed_at'),
    votingEndsAt: text(row, 'voting_ends_at'),
    executableAt: text(row, 'executable_at'),
    expiresAt: text(row, 'expires_at'),
    txId: text(row, 'tx_id'),
    updatedAt: text(row, 'updated_at'),
    updatedTxId: text(row, 'updated_tx_id'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}

export function proposalVoteNode(row: Row) {
  return {
    proposalId: text(row, 'proposal_id'),
    mspId: text(row, 'msp_id'),
    choice: text(row, 'choice'),
    voterUserId: optionalText(row, 'voter_user'),
    at: text(row, 'at'),
    txId: text(row, 'tx_id'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}

export const indexedWorkSchema = z.object({
  workId: z.string(),
  kind: z.string(),
  contentHash: z.string(),
  title: z.string(),
  registrant: actorNode,
  /** Owners now, with their shares in basis points (summing to 10 000). */
  owners: z.array(ownerShareNode),
  registeredAt: z.string(),
  registrationTxId: z.string(),
  ownershipVersion: z.number().int(),
  ...changed,
  record: unknownRecord,
});

export function workNode(row: Row): z.output<typeof indexedWorkSchema> {
  return {
    workId: text(row, 'work_id'),
    kind: text(row, 'kind'),
    contentHash: text(row, 'content_hash'),
    title: text(row, 'title'),
    registrant: actor(row, 'registrant'),
    owners: recordOf(row, ownersOnRecord).owners,
    registeredAt: text(row, 'registered_at'),
    registrationTxId: text(row, 'registration_tx_id'),
    ownershipVersion: Number(row.ownership_version),
    updatedAt: text(row, 'updated_at'),
    updatedTxId: text(row, 'updated_tx_id'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}

export function ownershipChangeNode(row: Row) {
  const change = recordOf(
    row,
    z.object({ currentOwners: ownersOnRecord.shape.owners, proposedOwners: ownersOnRecord.shape.owners }),
  );
  return {
    workId: text(row, 'work_id'),
    changeId: text(row, 'change_id'),
    proposer: party(row, 'proposer'),
    currentOwners: change.currentOwners,
    proposedOwners: change.proposedOwners,
    status: text(row, 'status'),
    proposedAt: text(row, 'proposed_at'),
    txId: text(row, 'tx_id'),
    updatedAt: text(row, 'updated_at'),
    updatedTxId: text(row, 'updated_tx_id'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}

const licenceTermsNode = {
  workId: z.string(),
  scope: z.string(),
  exclusive: z.boolean(),
  termStart: z.string(),
  royaltyBps: z.number().int().nullable(),
  /** Minor units per reported unit, as a decimal string. */
  perUnitAmount: z.string().nullable(),
  /** The one-off fee, minor units as a decimal string. */
  feeAmount: z.string().nullable(),
  currency: z.string(),
  status: z.string(),
  txId: z.string(),
};

function licenceTerms(row: Row) {
  return {
    workId: text(row, 'work_id'),
    scope: text(row, 'scope'),
    exclusive: Number(row.exclusive) === 1,
    termStart: text(row, 'term_start'),
    royaltyBps: optionalNumber(row, 'royalty_bps'),
    perUnitAmount: optionalText(row, 'per_unit_amount'),
    feeAmount: optionalText(row, 'fee_amount'),
    currency: text(row, 'currency'),
    status: text(row, 'status'),
    txId: text(row, 'tx_id'),
  };
}

export function licenceOfferNode(row: Row) {
  return {
    ...licenceTerms(row),
    offerId: text(row, 'offer_id'),
    licensee: optionalParty(row, 'licensee'),
    /** The work's owners when it was offered: each must consent. */
    owners: recordOf(row, ownersOnRecord).owners,
    termEnd: text(row, 'term_end'),
    offeredAt: text(row, 'offered_at'),
    updatedAt: text(row, 'updated_at'),
    updatedTxId: text(row, 'updated_tx_id'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}

export const indexedLicenceSchema = z.object({
  ...licenceTermsNode,
  grantId: z.string(),
  offerId: z.string(),
  licensee: partyNode,
  expiresAt: z.string(),
  acceptedAt: z.string(),
  ...changed,
  record: unknownRecord,
});

export function licenceNode(row: Row): z.output<typeof indexedLicenceSchema> {
  return {
    ...licenceTerms(row),
    grantId: text(row, 'grant_id'),
    offerId: text(row, 'offer_id'),
    licensee: party(row, 'licensee'),
    expiresAt: text(row, 'expires_at'),
    acceptedAt: text(row, 'accepted_at'),
    updatedAt: text(row, 'updated_at'),
    updatedTxId: text(row, 'updated_tx_id'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}

export const indexedRoyaltyPeriodSchema = z.object({
  grantId: z.string(),
  /** A calendar month `YYYY-MM`, or `fee` for the licence's one-off fee. */
  periodId: z.string(),
  workId: z.string(),
  licensee: partyNode,
  /** What the period owes, minor units as a decimal string. */
  royalty: z.string(),
  currency: z.string(),
  reported: z.boolean(),
  status: z.string(),
  closedAt: z.string(),
  txId: z.string(),
  ...changed,
  /** The period as the ledger holds it, with its payout instructions. */
  record: unknownRecord,
});

export function royaltyPeriodNode(row: Row): z.output<typeof indexedRoyaltyPeriodSchema> {
  return {
    grantId: text(row, 'grant_id'),
    periodId: text(row, 'period_id'),
    workId: text(row, 'work_id'),
    licensee: party(row, 'licensee'),
    royalty: text(row, 'royalty'),
    currency: text(row, 'currency'),
    reported: Number(row.reported) === 1,
    status: text(row, 'status'),
    closedAt: text(row, 'closed_at'),
    txId: text(row, 'tx_id'),
    updatedAt: text(row, 'updated_at'),
    updatedTxId: text(row, 'updated_tx_id'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}

export const indexedProvenanceRecordSchema = z.object({
  recordId: z.string(),
  /** dataset or model. */
  kind: z.string(),
  title: z.string(),
  contentSha256: z.string(),
  controller: partyNode,
  legalBasis: z.string().nullable(),
  piiClass: z.string().nullable(),
  /** held or erased for a dataset registered with subject data (which never leaves its private collection). */
  subjectDataStatus: z.string().nullable(),
  registeredAt: z.string(),
  txId: z.string(),
  updatedTxId: z.string(),
  ...block,
  record: unknownRecord,
});

export function provenanceRecordNode(row: Row): z.output<typeof indexedProvenanceRecordSchema> {
  return {
    recordId: text(row, 'record_id'),
    kind: text(row, 'kind'),
    title: text(row, 'title'),
    contentSha256: text(row, 'content_sha256'),
    controller: party(row, 'controller'),
    legalBasis: optionalText(row, 'legal_basis'),
    piiClass: optionalText(row, 'pii_class'),
    subjectDataStatus: optionalText(row, 'subject_data_status'),
    registeredAt: text(row, 'registered_at'),
    txId: text(row, 'tx_id'),
    updatedTxId: text(row, 'updated_tx_id'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}

export function lineageEdgeNode(row: Row) {
  return {
    parentId: text(row, 'parent_id'),
    childId: text(row, 'child_id'),
    relation: text(row, 'relation'),
    txId: text(row, 'tx_id'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}

export const indexedDatasetAccessGrantSchema = z.object({
  grantId: z.string(),
  datasetId: z.string(),
  controller: partyNode,
  grantee: partyNode,
  purpose: z.string(),
  scopes: z.array(z.string()),
  expiresAt: z.string(),
  status: z.string(),
  grantedAt: z.string(),
  txId: z.string(),
  updatedTxId: z.string(),
  ...block,
  record: unknownRecord,
});

export function datasetAccessGrantNode(row: Row): z.output<typeof indexedDatasetAccessGrantSchema> {
  return {
    grantId: text(row, 'grant_id'),
    datasetId: text(row, 'dataset_id'),
    controller: party(row, 'controller'),
    grantee: party(row, 'grantee'),
    purpose: text(row, 'purpose'),
    scopes: words(row, 'scopes'),
    expiresAt: text(row, 'expires_at'),
    status: text(row, 'status'),
    grantedAt: text(row, 'granted_at'),
    txId: text(row, 'tx_id'),
    updatedTxId: text(row, 'updated_tx_id'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}

export function datasetAccessNode(row: Row) {
  return {
    /** The id of the transaction that logged the use. */
    accessId: text(row, 'access_id'),
    grantId: text(row, 'grant_id'),
    datasetId: text(row, 'dataset_id'),
    controller: party(row, 'controller'),
    accessor: party(row, 'accessor'),
    scope: text(row, 'scope'),
    at: text(row, 'at'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}

export function erasureReceiptNode(row: Row) {
  return {
    receiptId: text(row, 'receipt_id'),
    targetKind: text(row, 'target_kind'),
    targetId: text(row, 'target_id'),
    requester: actor(row, 'requester'),
    dataSubject: party(row, 'subject'),
    /** The data's controllers: the dataset's controller, or the agreement's client and freelancer. */
    controllers: [party(row, 'controller'), ...(row.controller2_msp == null ? [] : [party(row, 'controller2')])],
    at: text(row, 'at'),
    txId: text(row, 'tx_id'),
    updatedBlock: text(row, 'updated_block'),
    get record() {
      return record(row);
    },
    ...recordOrganisations(row),
  };
}
