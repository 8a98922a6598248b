import {
  accessGrantRecordSchema,
  accessLogEntrySchema,
  erasureReceiptSchema,
  provenanceRecordSchema,
  transformationSchema,
} from '@gigledger/chaincode/model';
import { z } from 'zod';
import { written, type BlockRows, type DomainIndexer, type IndexedWrite } from './domain-indexer.js';

/** A lineage edge as the ledger's child index keeps it (`contracts/provenance/store.ts`). */
const childEdgeSchema = z.object({
  relation: z.enum(['derivedFrom', 'trainedOn']),
  transformation: transformationSchema.optional(),
});

function indexRecord(write: IndexedWrite, rows: BlockRows): void {
  const record = provenanceRecordSchema.parse(write.value);
  const dataset = record.kind === 'dataset' ? record : undefined;
  rows.upsert('ix_provenance_records', ['record_id'], {
    record_id: record.recordId,
    kind: record.kind,
    title: record.title,
    content_sha256: record.contentSha256,
    controller_msp: record.controller.mspId,
    controller_user: record.controller.userId,
    legal_basis: dataset?.legalBasis ?? null,
    pii_class: dataset?.piiClass ?? null,
    subject_data_status: dataset?.subjectData?.status ?? null,
    registered_at: record.registeredAt,
    tx_id: record.txId,
    updated_tx_id: write.transactionId,
    ...written(write, record),
  });
}

function indexEdge(write: IndexedWrite, rows: BlockRows): void {
  const edge = childEdgeSchema.parse(write.value);
  const [parentId, childId] = write.attributes;
  if (parentId === undefined || childId === undefined) {
    throw new Error(`lineage key of transaction ${write.transactionId} names no parent and child`);
  }
  rows.upsert('ix_lineage_edges', ['parent_id', 'child_id'], {
    parent_id: parentId,
    child_id: childId,
    relation: edge.relation,
    tx_id: write.transactionId,
    ...written(write, edge),
  });
}

/**
 * The dataset's controller and registration time, which decide who reads its access
 * grants and log (`mayOversee` in `contracts/provenance/access.ts`); a dataset is
 * registered in an earlier transaction than any grant of it.
 */
async function datasetOf(rows: BlockRows, datasetId: string, what: string) {
  const dataset = await rows.find('ix_provenance_records', { record_id: datasetId }, [
    'controller_msp',
    'controller_user',
    'registered_at',
  ]);
  if (dataset === undefined) throw new Error(`${what} written before its dataset ${datasetId}`);
  return {
    controller_msp: dataset.controller_msp,
    controller_user: dataset.controller_user,
    dataset_registered_at: dataset.registered_at,
  };
}

async function indexAccessGrant(write: IndexedWrite, rows: BlockRows): Promise<void> {
  const grant = accessGrantRecordSchema.parse(write.value);
  rows.upsert('ix_dataset_access_grants', ['grant_id'], {
    ...(await datasetOf(rows, grant.datasetId, `access grant ${grant.grantId}`)),
    grant_id: grant.grantId,
    dataset_id: grant.datasetId,
    grantee_msp: grant.grantee.mspId,
    grantee_user: grant.grantee.userId,
    purpose: grant.purpose,
    scopes: grant.scope.join(' '),
    expires_at: grant.expiresAt,
    status: grant.status,
    granted_at: grant.grantedAt,
    tx_id: grant.txId,
    updated_tx_id: write.transactionId,
    ...written(write, grant),
  });
}

async function indexAccess(write: IndexedWrite, rows: BlockRows): Promise<void> {
  const entry = accessLogEntrySchema.parse(write.value);
  rows.upsert('ix_dataset_access_log', ['dataset_id', 'grant_id', 'access_id'], {
    ...(await datasetOf(rows, entry.datasetId, `access ${entry.accessId}`)),
    access_id: entry.accessId,
    grant_id: entry.grantId,
    dataset_id: entry.datasetId,
    accessor_msp: entry.accessor.mspId,
    accessor_user: entry.accessor.userId,
    scope: entry.scope,
    at: entry.at,
    ...written(write, entry),
  });
}

/** The data's controllers, as `mayReadReceipt` in `contracts/provenance/erasure.ts` finds them. */
async function controllersOf(rows: BlockRows, target: z.output<typeof erasureReceiptSchema>['target']) {
  if (target.kind === 'datasetSubjectData') {
    const { controller_msp, controller_user } = await datasetOf(rows, target.datasetId, 'erasure receipt');
    return {
      target_id: target.datasetId,
      controller_msp,
      controller_user,
      controller2_msp: null,
      controller2_user: null,
    };
  }
  const agreement = await rows.find('ix_agreements', { agreement_id: target.agreementId }, [
    'client_msp',
    'client_user',
    'freelancer_msp',
    'freelancer_user',
  ]);
  if (agreement === undefined) throw new Error(`erasure receipt written before its agreement ${target.agreementId}`);
  return {
    target_id: target.agreementId,
    controller_msp: agreement.client_msp,
    controller_user: agreement.client_user,
    controller2_msp: agreement.freelancer_msp,
    controller2_user: agreement.freelancer_user,
  };
}

async function indexReceipt(write: IndexedWrite, rows: BlockRows): Promise<void> {
  const receipt = erasureReceiptSchema.parse(write.value);
  rows.upsert('ix_erasure_receipts', ['receipt_id'], {
    ...(await controllersOf(rows, receipt.target)),
    receipt_id: receipt.receiptId,
    target_kind: receipt.target.kind,
    requester_msp: receipt.requestedBy.mspId,
    requester_user: receipt.requestedBy.userId ?? null,
    subject_msp: receipt.dataSubject.mspId,
    subject_user: receipt.dataSubject.userId,
    at: receipt.at,
    tx_id: receipt.txId,
    ...written(write, receipt),
  });
}

/**
 * Dataset and model records with their lineage, dataset access grants, every logged use
 * of a grant, and erasure receipts, from the provenance contract's keys (see
 * `contracts/provenance/store.ts`). Subject data lives in a private collection and never
 * reaches a block: records carry only its hash and whether it was erased.
 */
export const provenanceIndexer: DomainIndexer = {
  domain: 'provenance',
  records: [
    ['provenanceRecord', indexRecord],
    ['provenanceChild', indexEdge],
    ['accessGrant', indexAccessGrant],
    ['datasetAccess', indexAccess],
    ['erasureReceipt', indexReceipt],
  ],
};
