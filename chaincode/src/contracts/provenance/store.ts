import type { Context } from 'fabric-contract-api';
import { z } from 'zod';
import {
  accessGrantRecordSchema,
  accessLogEntrySchema,
  erasureReceiptSchema,
  provenanceRecordSchema,
  transformationSchema,
  type AccessGrantRecord,
  type AccessLogEntry,
  type ProvenanceRecord,
} from '../../model/provenance';
import { refuse } from '../../ledger/refusal';
import {
  readByPartialKey,
  readPageByPartialKey,
  readRecord,
  readValuePage,
  recordStore,
  writeRecord,
} from '../../ledger/state';
import type { Page, PageRequest } from '../../model/page';
import { recordObjectTypes } from '../../model/record-keys';

/*
 * Key layout. Records, grants and receipts are written once and changed only by
 * transactions about that one record; indexes are one key per entry, written once,
 * so registering a child, granting access or logging a use never rewrites a shared key.
 *
 *   provenanceRecord [recordId]                        a dataset or model record
 *   provenanceHash   [contentSha256]                   index: the record that registered a content hash
 *   provenanceChild  [parentId, childId]               index: one lineage edge, read for descendants
 *   datasetGrant     [datasetId, grantId]              index: a dataset's access grants
 *   accessGrant      [grantId]                         one access grant
 *   datasetAccess    [datasetId, grantId, accessId]    one use of a grant (accessId = transaction id)
 *   erasureReceipt   [receiptId]                       one GDPR erasure receipt
 *   subjectData      [datasetId]                       subject data, in the datasetSubjectData collection
 */
const recordObjectType = recordObjectTypes.provenanceRecord;
const hashObjectType = 'provenanceHash';
const childObjectType = 'provenanceChild';
const datasetGrantObjectType = 'datasetGrant';
const grantObjectType = recordObjectTypes.datasetAccessGrant;
const accessObjectType = 'datasetAccess';
const receiptObjectType = 'erasureReceipt';
export const subjectDataObjectType = 'subjectData';

/** Dataset and model records, by id. */
export const provenanceRecords = recordStore(recordObjectType, provenanceRecordSchema, (record) => [record.recordId]);

/** Access grants, by id. */
export const accessGrants = recordStore(grantObjectType, accessGrantRecordSchema, (grant) => [grant.grantId]);

/** Uses of a dataset's grants, by dataset, grant and access id (the transaction id). */
export const accessLog = recordStore(accessObjectType, accessLogEntrySchema, (entry) => [
  entry.datasetId,
  entry.grantId,
  entry.accessId,
]);

/** GDPR erasure receipts, by id. */
export const erasureReceipts = recordStore(receiptObjectType, erasureReceiptSchema, (receipt) => [receipt.receiptId]);

export function subjectDataKey(ctx: Context, datasetId: string): string {
  return ctx.stub.createCompositeKey(subjectDataObjectType, [datasetId]);
}

/** @throws RefusalError NOT_FOUND naming `field` when no record has that id. */
export async function requireProvenanceRecord(
  ctx: Context,
  recordId: string,
  field = 'recordId',
): Promise<ProvenanceRecord> {
  const record = await provenanceRecords.read(ctx, recordId);
  if (record === undefined) refuse('NOT_FOUND', `provenance record ${recordId} does not exist`, field);
  return record;
}

const hashEntrySchema = z.object({ recordId: z.string() });

export async function readHashOwner(ctx: Context, contentSha256: string): Promise<string | undefined> {
  const entry = await readRecord(ctx, hashEntrySchema, ctx.stub.createCompositeKey(hashObjectType, [contentSha256]));
  return entry?.recordId;
}

export async function writeHashOwner(ctx: Context, contentSha256: string, recordId: string): Promise<void> {
  await writeRecord(ctx, ctx.stub.createCompositeKey(hashObjectType, [contentSha256]), { recordId });
}

/** One lineage edge as the child index keeps it. */
export const childEdgeSchema = z.object({
  relation: z.enum(['derivedFrom', 'trainedOn']),
  transformation: transformationSchema.optional(),
});
export type ChildEdge = z.output<typeof childEdgeSchema>;

export async function writeChildEdge(ctx: Context, parentId: string, childId: string, edge: ChildEdge): Promise<void> {
  await writeRecord(ctx, ctx.stub.createCompositeKey(childObjectType, [parentId, childId]), edge);
}

/** The children of a record, in id order, with how each was made from it. */
export async function readChildren(ctx: Context, parentId: string): Promise<{ childId: string; edge: ChildEdge }[]> {
  const entries = await readByPartialKey(ctx, childEdgeSchema, childObjectType, [parentId]);
  return entries.map(({ key, value }) => ({
    childId: ctx.stub.splitCompositeKey(key).attributes[1] ?? '',
    edge: value,
  }));
}

const grantIndexSchema = z.object({ grantId: z.string() });

export async function indexGrant(ctx: Context, grant: AccessGrantRecord): Promise<void> {
  await writeRecord(ctx, ctx.stub.createCompositeKey(datasetGrantObjectType, [grant.datasetId, grant.grantId]), {
    grantId: grant.grantId,
  });
}

/**
 * One page of a dataset's access grants, in grant id order, and the bookmark of the next.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export async function readDatasetGrantsPage(
  ctx: Context,
  datasetId: string,
  page: PageRequest,
): Promise<Page<AccessGrantRecord>> {
  const entries = await readPageByPartialKey(ctx, grantIndexSchema, datasetGrantObjectType, [datasetId], page);
  const items: AccessGrantRecord[] = [];
  for (const { value } of entries.records) {
    const grant = await accessGrants.read(ctx, value.grantId);
    if (grant !== undefined) items.push(grant);
  }
  return { items, bookmark: entries.bookmark };
}

/**
 * One page of the uses of a dataset's grants (of one grant when given), in key order:
 * by grant id, then access id (the using transaction's id).
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export function readAccessLogPage(
  ctx: Context,
  datasetId: string,
  grantId: string | undefined,
  page: PageRequest,
): Promise<Page<AccessLogEntry>> {
  const attributes = grantId === undefined ? [datasetId] : [datasetId, grantId];
  return readValuePage(ctx, accessLogEntrySchema, accessObjectType, attributes, page);
}
