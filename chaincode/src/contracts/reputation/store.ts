import type { Context } from 'fabric-contract-api';
import type { Party } from '../../model/party';
import {
  attestationKeyAttributes,
  attestationObjectType,
  attestationRecordSchema,
  completionKeyAttributes,
  completionObjectType,
  completionRecordSchema,
  type AttestationRecord,
  type CompletionRecord,
} from '../../model/reputation-records';
import { readByPartialKey, readValuePage, writeRecord } from '../../ledger/state';
import type { Page, PageRequest } from '../../model/page';

/*
 * Key layout of the reputation contract (see `model/reputation-records.ts`). Each record
 * is written once by the one transaction that creates it and never updated:
 *
 *   completion  [freelancer mspId, freelancer userId, agreementId, milestoneId]
 *   attestation [subject mspId, subject userId, attester mspId, attester userId, agreementId]
 *
 * Keys lead with the subject so that the subject's records are one partial-key range
 * for the (read-only) queries; the transactions that write them only ever read single
 * keys of their own.
 */

export function completionKey(ctx: Context, ref: { subject: Party; agreementId: string; milestoneId: string }): string {
  return ctx.stub.createCompositeKey(completionObjectType, completionKeyAttributes(ref));
}

export function attestationKey(ctx: Context, ref: { subject: Party; attester: Party; agreementId: string }): string {
  return ctx.stub.createCompositeKey(attestationObjectType, attestationKeyAttributes(ref));
}

export async function keyExists(ctx: Context, key: string): Promise<boolean> {
  return (await ctx.stub.getState(key)).length > 0;
}

export async function writeCompletion(ctx: Context, record: CompletionRecord): Promise<void> {
  await writeRecord(ctx, completionKey(ctx, record), record);
}

export async function writeAttestation(ctx: Context, record: AttestationRecord): Promise<void> {
  await writeRecord(ctx, attestationKey(ctx, record), record);
}

/** The subject's completions in key order (agreement, then milestone). For queries only. */
export async function readCompletions(ctx: Context, subject: Party): Promise<CompletionRecord[]> {
  const records = await readByPartialKey(ctx, completionRecordSchema, completionObjectType, [
    subject.mspId,
    subject.userId,
  ]);
  return records.map((record) => record.value);
}

/**
 * One page of the subject's completions (key order: agreement, then milestone), and the
 * bookmark of the next.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export function readCompletionsPage(ctx: Context, subject: Party, page: PageRequest): Promise<Page<CompletionRecord>> {
  return readValuePage(ctx, completionRecordSchema, completionObjectType, [subject.mspId, subject.userId], page);
}

/**
 * One page of the subject's attestations (key order: attester, then agreement), and the
 * bookmark of the next.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export function readAttestationsPage(
  ctx: Context,
  subject: Party,
  page: PageRequest,
): Promise<Page<AttestationRecord>> {
  return readValuePage(ctx, attestationRecordSchema, attestationObjectType, [subject.mspId, subject.userId], page);
}

/** The subject's attestations in key order (attester, then agreement). For queries only. */
export async function readAttestations(ctx: Context, subject: Party): Promise<AttestationRecord[]> {
  const records = await readByPartialKey(ctx, attestationRecordSchema, attestationObjectType, [
    subject.mspId,
    subject.userId,
  ]);
  return records.map((record) => record.value);
}
