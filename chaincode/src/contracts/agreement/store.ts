import type { Context } from 'fabric-contract-api';
import { z } from 'zod';
import {
  agreementRecordSchema,
  milestoneRecordSchema,
  taskRecordSchema,
  type AgreementRecord,
  type MilestoneRecord,
  type TaskRecord,
} from '../../model/agreement-records';
import { type Party } from '../../model/party';
import type { PartyQueryRole } from '../../model/agreement';
import { requireEndorsementByEvery } from '../../ledger/endorsement';
import { refuse } from '../../ledger/refusal';
import { readByPartialKey, readPageByPartialKey, readRecord, writeRecord } from '../../ledger/state';
import type { PageRequest } from '../../model/page';
import { recordObjectTypes } from '../../model/record-keys';

/*
 * Key layout. Every key below except the party index belongs to exactly one agreement,
 * so work on different agreements never touches the same key; the index entries are
 * written once, when the agreement is drafted, and never updated.
 *
 *   agreement      [agreementId]                          the agreement record
 *   milestone      [agreementId, milestoneId]             one milestone, its deliveries, escrow and payouts
 *   task           [agreementId, milestoneId, taskId]     one micro-task of a batch milestone
 *   agreementParty [mspId, userId, role, agreementId]     index: agreements by party
 *   panelSeat      [mspId, userId, agreementId, milestoneId]  index: disputes by panel arbitrator,
 *                                                         written once, when the dispute is opened
 *   terms          [agreementId]                          confidential terms, in the agreementTerms collection
 */
const agreementObjectType = recordObjectTypes.agreement;
const milestoneObjectType = recordObjectTypes.milestone;
const taskObjectType = 'task';
const partyIndexObjectType = 'agreementParty';
const panelSeatObjectType = 'panelSeat';
const termsObjectType = 'terms';

export function agreementKey(ctx: Context, agreementId: string): string {
  return ctx.stub.createCompositeKey(agreementObjectType, [agreementId]);
}

export function milestoneKey(ctx: Context, agreementId: string, milestoneId: string): string {
  return ctx.stub.createCompositeKey(milestoneObjectType, [agreementId, milestoneId]);
}

export function taskKey(ctx: Context, agreementId: string, milestoneId: string, taskId: string): string {
  return ctx.stub.createCompositeKey(taskObjectType, [agreementId, milestoneId, taskId]);
}

export function termsKey(ctx: Context, agreementId: string): string {
  return ctx.stub.createCompositeKey(termsObjectType, [agreementId]);
}

export function milestoneLabel(agreementId: string, milestoneId: string): string {
  return `milestone ${milestoneId} of agreement ${agreementId}`;
}

export function taskLabel(agreementId: string, milestoneId: string, taskId: string): string {
  return `task ${taskId} of ${milestoneLabel(agreementId, milestoneId)}`;
}

export function partiesOf(agreement: AgreementRecord): string[] {
  return [agreement.client.mspId, agreement.freelancer.mspId];
}

export function readAgreement(ctx: Context, agreementId: string): Promise<AgreementRecord | undefined> {
  return readRecord(ctx, agreementRecordSchema, agreementKey(ctx, agreementId));
}

/**
 * @throws RefusalError NOT_FOUND when no agreement has the id.
 */
export async function requireAgreement(
  ctx: Context,
  agreementId: string,
  field = 'agreementId',
): Promise<AgreementRecord> {
  const agreement = await readAgreement(ctx, agreementId);
  if (agreement === undefined) refuse('NOT_FOUND', `agreement ${agreementId} does not exist`, field);
  return agreement;
}

export async function agreementExists(ctx: Context, agreementId: string): Promise<boolean> {
  return (await ctx.stub.getState(agreementKey(ctx, agreementId))).length > 0;
}

/**
 * @throws RefusalError NOT_FOUND when the agreement has no milestone with the id.
 */
export async function requireMilestone(
  ctx: Context,
  agreement: AgreementRecord,
  milestoneId: string,
): Promise<MilestoneRecord> {
  const milestone = agreement.milestoneIds.includes(milestoneId)
    ? await readRecord(ctx, milestoneRecordSchema, milestoneKey(ctx, agreement.agreementId, milestoneId))
    : undefined;
  if (milestone === undefined) {
    refuse('NOT_FOUND', `agreement ${agreement.agreementId} has no milestone ${milestoneId}`, 'milestoneId');
  }
  return milestone;
}

/** Every milestone of the agreement, in the client's order. */
export async function readMilestones(ctx: Context, agreement: AgreementRecord): Promise<MilestoneRecord[]> {
  const milestones: MilestoneRecord[] = [];
  for (const milestoneId of agreement.milestoneIds)
    milestones.push(await requireMilestone(ctx, agreement, milestoneId));
  return milestones;
}

/**
 * @throws RefusalError NOT_FOUND when the batch has no task with the id.
 */
export async function requireTask(ctx: Context, milestone: MilestoneRecord, taskId: string): Promise<TaskRecord> {
  const task = await readRecord(
    ctx,
    taskRecordSchema,
    taskKey(ctx, milestone.agreementId, milestone.milestoneId, taskId),
  );
  if (task === undefined) {
    refuse(
      'NOT_FOUND',
      `${milestoneLabel(milestone.agreementId, milestone.milestoneId)} has no task ${taskId}`,
      'taskId',
    );
  }
  return task;
}

/** Every task of a batch milestone, in the client's order. */
export async function readTasks(ctx: Context, milestone: MilestoneRecord): Promise<TaskRecord[]> {
  const records = await readByPartialKey(ctx, taskRecordSchema, taskObjectType, [
    milestone.agreementId,
    milestone.milestoneId,
  ]);
  return records.map((record) => record.value).sort((a, b) => a.position - b.position);
}

export async function writeAgreement(ctx: Context, agreement: AgreementRecord): Promise<void> {
  await writeRecord(ctx, agreementKey(ctx, agreement.agreementId), agreement);
}

export async function writeMilestone(ctx: Context, milestone: MilestoneRecord): Promise<void> {
  await writeRecord(ctx, milestoneKey(ctx, milestone.agreementId, milestone.milestoneId), milestone);
}

export async function writeTask(ctx: Context, task: TaskRecord): Promise<void> {
  await writeRecord(ctx, taskKey(ctx, task.agreementId, task.milestoneId, task.taskId), task);
}

/**
 * Writes a record of a new agreement and binds the key to both parties' organisations:
 * from now on no single organisation can endorse a change to it.
 */
export async function createOwnedRecord(
  ctx: Context,
  agreement: AgreementRecord,
  key: string,
  value: unknown,
): Promise<void> {
  await writeRecord(ctx, key, value);
  await requireEndorsementByEvery(ctx, key, partiesOf(agreement));
}

const partyIndexEntrySchema = z.object({
  agreementId: z.string(),
  role: z.enum(['client', 'freelancer', 'evaluator']),
});

export async function indexParty(ctx: Context, party: Party, role: PartyQueryRole, agreementId: string): Promise<void> {
  const key = ctx.stub.createCompositeKey(partyIndexObjectType, [party.mspId, party.userId, role, agreementId]);
  // The value is never empty: Fabric treats writing an empty value as a delete.
  await writeRecord(ctx, key, { agreementId, role });
}

/**
 * One page of the agreements in which the party plays `role` (any role when left out), in
 * key order, and the bookmark of the next page.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export async function readPartyIndexPage(
  ctx: Context,
  party: Party,
  role: PartyQueryRole | undefined,
  page: PageRequest,
): Promise<{ entries: { agreementId: string; role: PartyQueryRole }[]; bookmark: string }> {
  const attributes = role === undefined ? [party.mspId, party.userId] : [party.mspId, party.userId, role];
  const read = await readPageByPartialKey(ctx, partyIndexEntrySchema, partyIndexObjectType, attributes, page);
  return { entries: read.records.map((record) => record.value), bookmark: read.bookmark };
}

const panelSeatSchema = z.object({ agreementId: z.string(), milestoneId: z.string() });

/** Records that the arbitrator sits on the panel of the dispute over the milestone. */
export async function indexPanelSeat(
  ctx: Context,
  arbitrator: Party,
  agreementId: string,
  milestoneId: string,
): Promise<void> {
  const key = ctx.stub.createCompositeKey(panelSeatObjectType, [
    arbitrator.mspId,
    arbitrator.userId,
    agreementId,
    milestoneId,
  ]);
  await writeRecord(ctx, key, { agreementId, milestoneId });
}

/**
 * One page of the disputes whose panel holds the arbitrator, in key order (agreement id,
 * then milestone id), and the bookmark of the next page.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export async function readPanelSeatPage(
  ctx: Context,
  arbitrator: Party,
  page: PageRequest,
): Promise<{ seats: { agreementId: string; milestoneId: string }[]; bookmark: string }> {
  const read = await readPageByPartialKey(
    ctx,
    panelSeatSchema,
    panelSeatObjectType,
    [arbitrator.mspId, arbitrator.userId],
    page,
  );
  return { seats: read.records.map((record) => record.value), bookmark: read.bookmark };
}
