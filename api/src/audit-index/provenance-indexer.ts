import {
  accessGrantRecordSchema,
  accessLogEntrySchema,
  erasureReceiptSchema,
  provenanceRecordSchema,
  transformationSchema,
} from '@gigledger/chaincode/model';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DatabaseSchema } from '../db/database.js';
import type { DomainIndexer, IndexedWrite } from './domain-indexer.js';

/** A lineage edge as the ledger's child index keeps it (`contracts/provenance/store.ts`). */
const childEdgeSchema = z.object({
  relation: z.enum(['derivedFrom', 'trainedOn']),
  transformation: transformationSchema.optional(),
});

async function indexRecord(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const record = provenanceRecordSchema.parse(write.value);
  const dataset = record.kind === 'dataset' ? record : undefined;
  const row = {
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
    updated_block: write.blockNumber,
    record: JSON.stringify(record),
  };
  await db
    .insertInto('ix_provenance_records')
    .values(row)
    .onConflict((conflict) => conflict.column('record_id').doUpdateSet(row))
    .execute();
}

async function indexEdge(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const edge = childEdgeSchema.parse(write.value);
  const [parentId, childId] = write.attributes;
  if (parentId === undefined || childId === undefined) {
    throw new Error(`lineage key of transaction ${write.transactionId} names no parent and child`);
  }
  const row = {
    parent_id: parentId,
    child_id: childId,
    relation: edge.relation,
    tx_id: write.transactionId,
    updated_block: write.blockNumber,
    record: JSON.stringify(edge),
  };
  await db
    .insertInto('ix_lineage_edges')
    .values(row)
    .onConflict((conflict) => conflict.columns(['parent_id', 'child_id']).doUpdateSet(row))
    .execute();
}

/**
 * The dataset's controller and registration time, which decide who reads its access
 * grants and log (`mayOversee` in `contracts/provenance/access.ts`); a dataset is
 * registered in an earlier transaction than any grant of it.
 */
async function datasetOf(db: Kysely<DatabaseSchema>, datasetId: string, what: string) {
  const dataset = await db
    .selectFrom('ix_provenance_records')
    .select(['controller_msp', 'controller_user', 'registered_at'])
    .where('record_id', '=', datasetId)
    .executeTakeFirst();
  if (dataset === undefined) throw new Error(`${what} written before its dataset ${datasetId}`);
  return {
    controller_msp: dataset.controller_msp,
    controller_user: dataset.controller_user,
    dataset_registered_at: dataset.registered_at,
  };
}

async function indexAccessGrant(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const grant = accessGrantRecordSchema.parse(write.value);
  const row = {
    ...(await datasetOf(db, grant.datasetId, `access grant ${grant.grantId}`)),
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
    updated_block: write.blockNumber,
    record: JSON.stringify(grant),
  };
  await db
    .insertInto('ix_dataset_access_grants')
    .values(row)
    .onConflict((conflict) => conflict.column('grant_id').doUpdateSet(row))
    .execute();
}

async function indexAccess(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const entry = accessLogEntrySchema.parse(write.value);
  const row = {
    ...(await datasetOf(db, entry.datasetId, `access ${entry.accessId}`)),
    access_id: entry.accessId,
    grant_id: entry.grantId,
    dataset_id: entry.datasetId,
    accessor_msp: entry.accessor.mspId,
    accessor_user: entry.accessor.userId,
    scope: entry.scope,
    at: entry.at,
    updated_block: write.blockNumber,
    record: JSON.stringify(entry),
  };
  await db
    .insertInto('ix_dataset_access_log')
    .values(row)
    .onConflict((conflict) => conflict.columns(['dataset_id', 'grant_id', 'access_id']).doUpdateSet(row))
    .execute();
}

/** The data's controllers, as `mayReadReceipt` in `contracts/provenance/erasure.ts` finds them. */
async function controllersOf(db: Kysely<DatabaseSchema>, target: z.output<typeof erasureReceiptSchema>['target']) {
  if (target.kind === 'datasetSubjectData') {
    const dataset = await datasetOf(db, target.datasetId, 'erasure receipt');
    return {
      target_id: target.datasetId,
      controller_msp: dataset.controller_msp,
      controller_user: dataset.controller_user,
      controller2_msp: null,
      controller2_user: null,
    };
  }
  const agreement = await db
    .selectFrom('ix_agreements')
    .select(['client_msp', 'client_user', 'freelancer_msp', 'freelancer_user'])
    .where('agreement_id', '=', target.agreementId)
    .executeTakeFirst();
  if (agreement === undefined) throw new Error(`erasure receipt written before its agreement ${target.agreementId}`);
  return {
    target_id: target.agreementId,
    controller_msp: agreement.client_msp,
    controller_user: agreement.client_user,
    controller2_msp: agreement.freelancer_msp,
    controller2_user: agreement.freelancer_user,
  };
}

async function indexReceipt(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const receipt = erasureReceiptSchema.parse(write.value);
  const row = {
    ...(await controllersOf(db, receipt.target)),
    receipt_id: receipt.receiptId,
    target_kind: receipt.target.kind,
    requester_msp: receipt.requestedBy.mspId,
    requester_user: receipt.requestedBy.userId ?? null,
    subject_msp: receipt.dataSubject.mspId,
    subject_user: receipt.dataSubject.userId,
    at: receipt.at,
    tx_id: receipt.txId,
    updated_block: write.blockNumber,
    record: JSON.stringify(receipt),
  };
  await db
    .insertInto('ix_erasure_receipts')
    .values(row)
    .onConflict((conflict) => conflict.column('receipt_id').doUpdateSet(row))
    .execute();
}

/**
 * Dataset and model records with their lineage, dataset access grants, every logged use
 * of a grant, and erasure receipts, from the provenance contract's keys (see
 * `contracts/provenance/store.ts`). Subject data lives in a private collection and never
 * reaches a block: records carry only its hash and whether it was erased.
 */
export const provenanceIndexer: DomainIndexer = {
  domain: 'provenance',
  objectTypes: ['provenanceRecord', 'provenanceChild', 'accessGrant', 'datasetAccess', 'erasureReceipt'],
  apply(db, write) {
    if (write.value === undefined) return Promise.resolve();
    switch (write.objectType) {
      case 'provenanceRecord':
        return indexRecord(db, write);
      case 'provenanceChild':
        return indexEdge(db, write);
      case 'accessGrant':
        return indexAccessGrant(db, write);
      case 'datasetAccess':
        return indexAccess(db, write);
      default:
        return indexReceipt(db, write);
    }
  },
};
