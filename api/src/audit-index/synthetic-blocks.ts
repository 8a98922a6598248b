import { createHash } from 'node:crypto';
import type {
  AgreementRecord,
  CompletionRecord,
  CredentialRecord,
  MilestoneRecord,
  Party,
  SettlementInstruction,
} from '@gigledger/chaincode/model';
import type { BlockContents, BlockTransaction } from '@gigledger/gateway';

/*
 * Decoded blocks holding records as the chaincode writes them, for the index's unit
 * tests and its benchmark: they go through the same BlockIndexer and domain indexers
 * as blocks from the network, only the protobuf decoding is skipped.
 */

const encoder = new TextEncoder();
const hash = (text: string) => createHash('sha256').update(text).digest('hex');

export function compositeKey(objectType: string, attributes: readonly string[]): string {
  return `\u0000${objectType}\u0000${attributes.map((attribute) => `${attribute}\u0000`).join('')}`;
}

export interface SyntheticAgreement {
  readonly agreementId: string;
  readonly client: Party;
  readonly freelancer: Party;
  readonly evaluator?: Party;
  readonly status?: AgreementRecord['status'];
  readonly amount?: string;
  readonly currency?: MilestoneRecord['currency'];
  readonly milestoneStatus?: MilestoneRecord['status'];
  /** A release payout of the milestone's amount, with this status. */
  readonly payout?: SettlementInstruction['status'];
  readonly at: string;
  readonly txId: string;
}

export function agreementRecord(spec: SyntheticAgreement): AgreementRecord {
  return {
    agreementId: spec.agreementId,
    title: `Work ${spec.agreementId}`,
    client: spec.client,
    freelancer: spec.freelancer,
    ...(spec.evaluator === undefined ? {} : { evaluator: spec.evaluator }),
    status: spec.status ?? 'active',
    termsSha256: hash(`terms of ${spec.agreementId}`),
    milestoneIds: ['m1'],
    revisionLimit: 2,
    platformFeeBps: 0,
    createdAt: spec.at,
    createdTxId: spec.txId,
    updatedAt: spec.at,
    updatedTxId: spec.txId,
  };
}

export function milestoneRecord(spec: SyntheticAgreement): MilestoneRecord {
  const amount = spec.amount ?? '100000';
  const currency = spec.currency ?? 'EUR';
  const instructions: SettlementInstruction[] =
    spec.payout === undefined
      ? []
      : [
          {
            instructionId: `${spec.agreementId}/m1/release-1`,
            kind: 'release',
            cause: 'release',
            agreementId: spec.agreementId,
            milestoneId: 'm1',
            payer: spec.client,
            payee: spec.freelancer,
            amount,
            platformFee: '0',
            currency,
            status: spec.payout,
            requestedAt: spec.at,
            requestTxId: spec.txId,
            compliance: {
              outcome: 'cleared',
              requiredTypes: [],
              reason: 'no credential type is required',
              at: spec.at,
              txId: spec.txId,
            },
          },
        ];
  return {
    agreementId: spec.agreementId,
    milestoneId: 'm1',
    position: 1,
    kind: 'deliverable',
    title: 'First delivery',
    amount,
    currency,
    acceptanceCriteria: { description: 'as agreed', thresholds: [] },
    dueDate: spec.at,
    reviewWindowSeconds: 86_400,
    status: spec.milestoneStatus ?? 'unfunded',
    submissions: [],
    rejectionCount: 0,
    instructions,
    createdAt: spec.at,
    updatedAt: spec.at,
    updatedTxId: spec.txId,
  };
}

export function credentialRecord(spec: {
  credentialId: string;
  issuer: Party;
  subject: Party;
  type?: CredentialRecord['type'];
  status?: CredentialRecord['status'];
  at: string;
  txId: string;
}): CredentialRecord {
  return {
    credentialId: spec.credentialId,
    type: spec.type ?? 'Certification',
    issuer: spec.issuer,
    issuerVersion: 1,
    issuerVersionTxId: 'genesis',
    subject: spec.subject,
    issuanceDate: spec.at,
    claims: [{ name: 'degree', commitment: hash(`claim of ${spec.credentialId}`) }],
    status: spec.status ?? 'active',
    statusHistory: [],
    issuedAt: spec.at,
    issuedTxId: spec.txId,
    updatedAt: spec.at,
    updatedTxId: spec.txId,
  };
}

export function completionRecord(spec: SyntheticAgreement & { rating: number }): CompletionRecord {
  return {
    subject: spec.freelancer,
    client: spec.client,
    agreementId: spec.agreementId,
    milestoneId: 'm1',
    milestoneKind: 'deliverable',
    milestoneStatus: 'paid',
    rating: spec.rating,
    dueDate: spec.at,
    deliveredAt: spec.at,
    onTime: true,
    disputeOutcome: 'none',
    completedAt: spec.at,
    recordedAt: spec.at,
    txId: spec.txId,
  };
}

/** A transaction writing `records` (key → value) with the given validation code. */
export function syntheticTransaction(
  position: number,
  txId: string,
  records: readonly (readonly [string, unknown])[],
  options: { fn?: string; creatorMspId?: string; validationCode?: number; validationName?: string; at?: string } = {},
): BlockTransaction {
  return {
    transactionId: txId,
    position,
    headerType: 'ENDORSER_TRANSACTION',
    creatorMspId: options.creatorMspId ?? 'ClientOrgMSP',
    validationCode: options.validationCode ?? 0,
    validationName: options.validationName ?? 'VALID',
    timestamp: options.at,
    chaincode: 'gigledger',
    function: options.fn ?? 'agreement:draftAgreement',
    keys: records.map(([key]) => ({ namespace: 'gigledger', key, access: 'write' as const })),
    writes: records.map(([key, value]) => ({
      namespace: 'gigledger',
      key,
      value: encoder.encode(JSON.stringify(value)),
    })),
  };
}

/** A block of transactions chained to `previousHash`. */
export function syntheticBlock(
  blockNumber: bigint,
  transactions: readonly BlockTransaction[],
  previousHash = hash(`block ${(blockNumber - 1n).toString()}`),
): BlockContents {
  return {
    blockNumber,
    hash: hash(`block ${blockNumber.toString()}`),
    previousHash,
    dataHash: hash(`data ${blockNumber.toString()}`),
    transactions,
  };
}

/** The keys and values a draft writes for one agreement (its record and its milestone). */
export function agreementWrites(spec: SyntheticAgreement): [string, unknown][] {
  return [
    [compositeKey('agreement', [spec.agreementId]), agreementRecord(spec)],
    [compositeKey('milestone', [spec.agreementId, 'm1']), milestoneRecord(spec)],
  ];
}
