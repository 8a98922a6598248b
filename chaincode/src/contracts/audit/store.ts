import type { Context } from 'fabric-contract-api';
import { z } from 'zod';
import {
  auditGrantRecordSchema,
  readLogAnchorSchema,
  type AuditGrantRecord,
  type ReadLogAnchor,
} from '../../model/audit';
import { readByPartialKey, readPageByPartialKey, readRecord, readValuePage, writeRecord } from '../../ledger/state';
import type { Page, PageRequest } from '../../model/page';
import { recordObjectTypes } from '../../model/record-keys';

// One key per grant and per anchor, plus index entries by auditor organisation and by
// granting organisation: no key is written by every grant, so grants never conflict.
const keys = {
  grant: recordObjectTypes.auditGrant,
  byAuditor: 'auditGrantByAuditor',
  byOrganisation: 'auditGrantByOrganisation',
  anchor: 'readLogAnchor',
  head: 'readLogHead',
} as const;

const indexEntrySchema = z.object({ grantId: z.string() });

export function readGrant(ctx: Context, grantId: string): Promise<AuditGrantRecord | undefined> {
  return readRecord(ctx, auditGrantRecordSchema, ctx.stub.createCompositeKey(keys.grant, [grantId]));
}

/** Writes the grant and, the first time, its two index entries. */
export async function writeGrant(ctx: Context, grant: AuditGrantRecord, isNew: boolean): Promise<void> {
  await writeRecord(ctx, ctx.stub.createCompositeKey(keys.grant, [grant.grantId]), grant);
  if (!isNew) return;
  const entry = { grantId: grant.grantId };
  await writeRecord(ctx, ctx.stub.createCompositeKey(keys.byAuditor, [grant.auditor.mspId, grant.grantId]), entry);
  await writeRecord(ctx, ctx.stub.createCompositeKey(keys.byOrganisation, [grant.organisation, grant.grantId]), entry);
}

async function grantsOf(ctx: Context, index: string, mspId: string): Promise<AuditGrantRecord[]> {
  const entries = await readByPartialKey(ctx, indexEntrySchema, index, [mspId]);
  const grants: AuditGrantRecord[] = [];
  for (const { value } of entries) {
    const grant = await readGrant(ctx, value.grantId);
    if (grant !== undefined) grants.push(grant);
  }
  return grants;
}

/** Every grant, live or not, naming an auditor of the organisation (the person or the whole organisation). */
export function readGrantsToAuditorOrganisation(ctx: Context, mspId: string): Promise<AuditGrantRecord[]> {
  return grantsOf(ctx, keys.byAuditor, mspId);
}

/**
 * One page of the grants, live or not, the organisation gave (`by: 'organisation'`) or
 * that name an auditor of it (`by: 'auditor'`), in grant id order.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export async function readGrantsPage(
  ctx: Context,
  by: 'organisation' | 'auditor',
  mspId: string,
  page: PageRequest,
): Promise<Page<AuditGrantRecord>> {
  const index = by === 'organisation' ? keys.byOrganisation : keys.byAuditor;
  const entries = await readPageByPartialKey(ctx, indexEntrySchema, index, [mspId], page);
  const items: AuditGrantRecord[] = [];
  for (const { value } of entries.records) {
    const grant = await readGrant(ctx, value.grantId);
    if (grant !== undefined) items.push(grant);
  }
  return { items, bookmark: entries.bookmark };
}

// Zero-padded so that composite keys sort in sequence order.
const sequenceKeyPart = (sequence: number): string => String(sequence).padStart(16, '0');

/** The key attributes of a log's anchors: the organisation, then the log unless the anchor predates log ids. */
const logKeyParts = (mspId: string, logId: string | undefined): string[] =>
  logId === undefined ? [mspId] : [mspId, logId];

/** The latest anchor of one of the organisation's read logs (`logId` absent: of the log anchored before logs had ids). */
export function readLatestAnchor(
  ctx: Context,
  mspId: string,
  logId: string | undefined,
): Promise<ReadLogAnchor | undefined> {
  return readRecord(ctx, readLogAnchorSchema, ctx.stub.createCompositeKey(keys.head, logKeyParts(mspId, logId)));
}

/** Keeps the anchor under its own key and as its log's latest. */
export async function writeAnchor(ctx: Context, anchor: ReadLogAnchor): Promise<void> {
  const log = logKeyParts(anchor.mspId, anchor.logId);
  await writeRecord(ctx, ctx.stub.createCompositeKey(keys.anchor, [...log, sequenceKeyPart(anchor.sequence)]), anchor);
  await writeRecord(ctx, ctx.stub.createCompositeKey(keys.head, log), anchor);
}

/**
 * One page of one log's anchors in sequence order, or with `logId` absent of every anchor
 * of the organisation (each log's in sequence order, the logs one after another).
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export function readAnchorsPage(
  ctx: Context,
  mspId: string,
  logId: string | undefined,
  page: PageRequest,
): Promise<Page<ReadLogAnchor>> {
  return readValuePage(ctx, readLogAnchorSchema, keys.anchor, logKeyParts(mspId, logId), page);
}
