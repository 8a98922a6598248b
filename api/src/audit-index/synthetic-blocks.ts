import { createHash } from 'node:crypto';
import type {
  AccessGrantRecord,
  AccessLogEntry,
  AgreementRecord,
  CompletionRecord,
  CredentialRecord,
  DatasetRecord,
  ErasureReceipt,
  LicenceGrantRecord,
  LicenceOfferRecord,
  MilestoneRecord,
  ModelRecord,
  OwnerShare,
  OwnershipChangeRecord,
  Party,
  ProposalRecord,
  RoyaltyPeriodRecord,
  SettlementInstruction,
  VoteRecord,
  WorkRecord,
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
  /** The organisation whose settlement service sends the payout (none on records before the ledger named one). */
  readonly settlingOrganisation?: string;
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
            ...(spec.settlingOrganisation === undefined ? {} : { settlingOrganisation: spec.settlingOrganisation }),
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
  options: {
    fn?: string;
    creatorMspId?: string;
    validationCode?: number;
    validationName?: string;
    at?: string;
    /** Keys whose metadata (a key-level endorsement policy) the transaction writes. */
    metadataKeys?: readonly string[];
  } = {},
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
    metadataWrites: (options.metadataKeys ?? []).map((key) => ({ namespace: 'gigledger', key })),
    event: undefined,
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

/** When and in which transaction a synthetic record was written. */
export interface Written {
  readonly at: string;
  readonly txId: string;
}

const later = (at: string, seconds: number) => new Date(Date.parse(at) + seconds * 1000).toISOString();

export function proposalRecord(
  spec: Written & { proposalId: string; proposer: Party; status?: ProposalRecord['status'] },
): ProposalRecord {
  return {
    proposalId: spec.proposalId,
    title: `Proposal ${spec.proposalId}`,
    text: 'Raise the review window to five days',
    actions: [{ type: 'setParameter', name: 'defaultReviewWindowSeconds', value: 432_000 }],
    proposer: { ...spec.proposer, role: 'governor' },
    proposedAt: spec.at,
    txId: spec.txId,
    votingEndsAt: later(spec.at, 86_400),
    timelockSeconds: 3600,
    executableAt: later(spec.at, 90_000),
    expiresAt: later(spec.at, 700_000),
    electorate: ['AuditOrgMSP', 'ClientOrgMSP', 'TalentOrgMSP'],
    quorumBps: 5000,
    passThresholdBps: 5000,
    status: spec.status ?? 'open',
    updatedAt: spec.at,
    updatedTxId: spec.txId,
  };
}

export function voteRecord(
  spec: Written & { proposalId: string; voter: Party; choice: VoteRecord['choice'] },
): VoteRecord {
  return {
    proposalId: spec.proposalId,
    mspId: spec.voter.mspId,
    choice: spec.choice,
    voter: { ...spec.voter, role: 'governor' },
    at: spec.at,
    txId: spec.txId,
  };
}

export function workRecord(
  spec: Written & { workId: string; owners: OwnerShare[]; registeredAt?: string; version?: number },
): WorkRecord {
  const registrant = spec.owners[0]?.party ?? { mspId: 'TalentOrgMSP', userId: 'nobody' };
  return {
    workId: spec.workId,
    kind: 'model',
    contentHash: hash(`content of ${spec.workId}`),
    title: `Model ${spec.workId}`,
    uri: `https://models.example/${spec.workId}`,
    creators: [registrant],
    owners: spec.owners,
    registrant: { ...registrant, role: 'freelancer' },
    registeredAt: spec.registeredAt ?? spec.at,
    registrationTxId: spec.txId,
    ownershipVersion: spec.version ?? 1,
    updatedAt: spec.at,
    updatedTxId: spec.txId,
  };
}

export function ownershipChangeRecord(
  spec: Written & {
    workId: string;
    changeId: string;
    proposer: Party;
    currentOwners: OwnerShare[];
    proposedOwners: OwnerShare[];
    status?: OwnershipChangeRecord['status'];
  },
): OwnershipChangeRecord {
  return {
    workId: spec.workId,
    changeId: spec.changeId,
    proposer: spec.proposer,
    currentOwners: spec.currentOwners,
    baseVersion: 1,
    proposedOwners: spec.proposedOwners,
    status: spec.status ?? 'open',
    approvals: [],
    proposedAt: spec.at,
    txId: spec.txId,
    updatedAt: spec.at,
    updatedTxId: spec.txId,
  };
}

export function licenceOfferRecord(
  spec: Written & {
    offerId: string;
    workId: string;
    owners: OwnerShare[];
    licensee?: Party;
    fee?: string;
    currency?: LicenceOfferRecord['currency'];
    status?: LicenceOfferRecord['status'];
  },
): LicenceOfferRecord {
  return {
    offerId: spec.offerId,
    workId: spec.workId,
    ...(spec.licensee === undefined ? {} : { licensee: spec.licensee }),
    scope: 'commercial',
    fieldsOfUse: ['any'],
    territories: ['WORLD'],
    exclusive: false,
    termStart: spec.at,
    termEnd: later(spec.at, 365 * 86_400),
    royaltyBps: 500,
    ...(spec.fee === undefined ? {} : { fee: { amount: spec.fee } }),
    currency: spec.currency ?? 'EUR',
    termsSha256: hash(`terms of ${spec.offerId}`),
    owners: spec.owners,
    consents: [],
    status: spec.status ?? 'open',
    offeredBy: { ...(spec.owners[0]?.party ?? { mspId: 'TalentOrgMSP' }), role: 'freelancer' },
    offeredAt: spec.at,
    txId: spec.txId,
    updatedAt: spec.at,
    updatedTxId: spec.txId,
  };
}

export function licenceGrantRecord(
  spec: Written & { grantId: string; offer: LicenceOfferRecord; licensee: Party },
): LicenceGrantRecord {
  const { offer } = spec;
  return {
    grantId: spec.grantId,
    offerId: offer.offerId,
    workId: offer.workId,
    licensee: spec.licensee,
    scope: offer.scope,
    fieldsOfUse: offer.fieldsOfUse,
    territories: offer.territories,
    exclusive: offer.exclusive,
    termStart: offer.termStart,
    expiresAt: offer.termEnd,
    ...(offer.royaltyBps === undefined ? {} : { royaltyBps: offer.royaltyBps }),
    ...(offer.fee === undefined ? {} : { fee: { amount: offer.fee.amount } }),
    currency: offer.currency,
    termsSha256: offer.termsSha256,
    status: 'active',
    acceptedAt: spec.at,
    txId: spec.txId,
    updatedAt: spec.at,
    updatedTxId: spec.txId,
  };
}

/** A closed period (or, with period `fee`, a licence's fee record) paying each owner their share. */
export function royaltyPeriodRecord(
  spec: Written & { grant: LicenceGrantRecord; periodId: string; royalty: string; owners: OwnerShare[] },
): RoyaltyPeriodRecord {
  const fee = spec.periodId === 'fee';
  let paid = 0n;
  const instructions = spec.owners.map((owner, index) => {
    const amount =
      index === spec.owners.length - 1
        ? BigInt(spec.royalty) - paid
        : (BigInt(spec.royalty) * BigInt(owner.shareBps)) / 10_000n;
    paid += amount;
    return {
      instructionId: `${spec.grant.grantId}/${spec.periodId}/${fee ? 'fee' : 'royalty'}-${String(index + 1)}`,
      kind: fee ? ('licence-fee' as const) : ('royalty' as const),
      grantId: spec.grant.grantId,
      periodId: spec.periodId,
      payer: spec.grant.licensee,
      payee: owner.party,
      shareBps: owner.shareBps,
      amount: amount.toString(),
      platformFee: '0',
      currency: spec.grant.currency,
      status: 'pending' as const,
      requestedAt: spec.at,
      requestTxId: spec.txId,
    };
  });
  return {
    grantId: spec.grant.grantId,
    periodId: spec.periodId,
    workId: spec.grant.workId,
    royalty: spec.royalty,
    currency: spec.grant.currency,
    reported: !fee,
    instructions,
    status: 'settling',
    closedBy: { ...spec.grant.licensee, role: 'client' },
    closedAt: spec.at,
    txId: spec.txId,
    updatedAt: spec.at,
    updatedTxId: spec.txId,
  };
}

export function datasetRecord(
  spec: Written & { recordId: string; controller: Party; subjectData?: 'held' | 'erased'; parents?: string[] },
): DatasetRecord {
  const sha256 = hash(`subject data of ${spec.recordId}`);
  return {
    kind: 'dataset',
    recordId: spec.recordId,
    contentSha256: hash(`dataset ${spec.recordId}`),
    title: `Dataset ${spec.recordId}`,
    licence: { kind: 'spdx', expression: 'CC-BY-4.0' },
    controller: spec.controller,
    ...(spec.parents === undefined
      ? {}
      : {
          derivedFrom: {
            parents: spec.parents,
            transformation: { description: 'deduplicated', codeSha256: hash('dedup.py') },
          },
        }),
    registeredAt: spec.at,
    txId: spec.txId,
    source: 'https://data.example/collection',
    legalBasis: 'consent',
    piiClass: 'pseudonymised',
    retention: { kind: 'period', period: 'P5Y' },
    ...(spec.subjectData === undefined
      ? {}
      : {
          subjectData:
            spec.subjectData === 'held'
              ? { status: 'held' as const, sha256 }
              : { status: 'erased' as const, sha256, receiptId: `R-${spec.recordId}`, erasedAt: spec.at },
        }),
  };
}

export function modelRecord(spec: Written & { recordId: string; controller: Party; trainedOn: string[] }): ModelRecord {
  return {
    kind: 'model',
    recordId: spec.recordId,
    contentSha256: hash(`model ${spec.recordId}`),
    title: `Model ${spec.recordId}`,
    licence: { kind: 'spdx', expression: 'Apache-2.0' },
    controller: spec.controller,
    registeredAt: spec.at,
    txId: spec.txId,
    trainedOn: spec.trainedOn,
    trainingCodeSha256: [hash('train.py')],
  };
}

export function accessGrantRecord(
  spec: Written & { grantId: string; datasetId: string; controller: Party; grantee: Party },
): AccessGrantRecord {
  return {
    grantId: spec.grantId,
    datasetId: spec.datasetId,
    controller: spec.controller,
    grantee: spec.grantee,
    purpose: 'Evaluate a speech model',
    scope: ['read', 'evaluate'],
    expiresAt: later(spec.at, 30 * 86_400),
    status: 'active',
    grantedAt: spec.at,
    txId: spec.txId,
  };
}

export function accessLogEntry(spec: Written & { grant: AccessGrantRecord }): AccessLogEntry {
  return {
    accessId: spec.txId,
    grantId: spec.grant.grantId,
    datasetId: spec.grant.datasetId,
    accessor: spec.grant.grantee,
    scope: 'read',
    at: spec.at,
  };
}

export function erasureReceipt(
  spec: Written & { receiptId: string; datasetId: string; requester: Party; dataSubject: Party },
): ErasureReceipt {
  return {
    receiptId: spec.receiptId,
    target: { kind: 'datasetSubjectData', datasetId: spec.datasetId },
    requestedBy: { ...spec.requester, role: 'client' },
    dataSubject: spec.dataSubject,
    legalBasis: 'GDPR Art. 17(1)(a)',
    purged: {
      collection: 'datasetSubjectData',
      objectType: 'subjectData',
      keyAttributes: [spec.datasetId],
      sha256: hash(`subject data of ${spec.datasetId}`),
    },
    at: spec.at,
    txId: spec.txId,
  };
}
